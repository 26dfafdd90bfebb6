import type { Clock, TimerHandle } from './clock.ts';

interface PendingTimer {
  at: number;
  callback: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to: tests, scenario runs and the sandbox's "advance time" use it. */
export class ManualClock implements Clock {
  #now: number;
  #timers: PendingTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer: PendingTimer = { at: this.#now + Math.max(0, delayMs), callback, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves time forward, firing due timers in deadline order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = target;
  }
}
