/** The outside thing called time. The host reads it; machines never do (every event carries its `at`). */
export interface Clock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
}

export interface TimerHandle {
  cancel(): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    // Node caps timers at 2^31-1 ms; a longer deadline is picked up again by the sweeper.
    const timer = setTimeout(callback, Math.min(Math.max(0, delayMs), 2_147_483_647));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
