import type { Clock } from '../clock/clock.ts';

export interface PacerOptions {
  /** Sustained sends per second per key. */
  ratePerSecond: number;
  /** Sends a key may make back to back after being idle; 1 means strictly paced. */
  burst?: number;
  clock: Clock;
}

export interface Pacer {
  /**
   * Claims the next send slot for `key` and returns how many ms to wait before using it (0: send now).
   * Every call claims a slot, so call it once per send, right before waiting and sending.
   */
  reserve(key: string): number;
}

/**
 * Meta's throughput per business phone number: 80 messages per second by default (inbound included,
 * 1,000 after an automatic upgrade). Above it Meta answers 130429.
 */
export const PHONE_NUMBER_THROUGHPUT = { ratePerSecond: 80, burst: 80 } as const;

/**
 * Meta's pair rate limit, one business number to one customer: about one message every 6 s sustained.
 * Meta lets a burst borrow ahead (up to some 45 messages in 6 s) and then blocks that customer (131056)
 * until the borrowed time is paid back; a small burst keeps a multi-part reply quick without ever
 * getting near that lockout.
 */
export const PAIR_RATE = { ratePerSecond: 1 / 6, burst: 3 } as const;

// Expired keys are swept once the map outgrows this, then again at twice the size that survived a sweep.
const MIN_SWEEP_SIZE = 1_024;

/**
 * A token bucket per key, kept as its GCRA equivalent: one "theoretical arrival time" per key instead of a
 * token count and a refill timestamp. A key whose time has passed is an idle, full bucket, so it is dropped:
 * per-recipient keys would otherwise grow with every customer ever messaged.
 */
export function createPacer({ ratePerSecond, burst = 1, clock }: PacerOptions): Pacer {
  if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`);
  if (!Number.isInteger(burst) || burst < 1)
    throw new RangeError(`burst must be a positive integer, got ${burst}`);
  const intervalMs = 1_000 / ratePerSecond;
  const toleranceMs = (burst - 1) * intervalMs;
  const arrivals = new Map<string, number>();
  let sweepAt = MIN_SWEEP_SIZE;

  const sweep = (now: number) => {
    for (const [key, arrival] of arrivals) if (arrival <= now) arrivals.delete(key);
    sweepAt = Math.max(MIN_SWEEP_SIZE, arrivals.size * 2);
  };

  return {
    reserve(key) {
      const now = clock.now();
      const arrival = Math.max(arrivals.get(key) ?? now, now);
      arrivals.set(key, arrival + intervalMs);
      if (arrivals.size > sweepAt) sweep(now);
      // Rounded up: waking a fraction of a ms early would land the send before its slot.
      return Math.max(0, Math.ceil(arrival - toleranceMs - now));
    },
  };
}
