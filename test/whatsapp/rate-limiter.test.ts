import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock/manual-clock.ts';
import { createPacer, PAIR_RATE, PHONE_NUMBER_THROUGHPUT } from '../../src/whatsapp/rate-limiter.ts';

const reserveMany = (reserve: (key: string) => number, key: string, count: number) =>
  Array.from({ length: count }, () => reserve(key));

describe('createPacer', () => {
  it('lets a burst through at once, then spaces sends at the sustained rate', () => {
    const pacer = createPacer({ ratePerSecond: 1 / 6, burst: 3, clock: new ManualClock() });
    expect(reserveMany(pacer.reserve, 'customer', 5)).toEqual([0, 0, 0, 6_000, 12_000]);
  });

  it('paces strictly when no burst is given', () => {
    const pacer = createPacer({ ratePerSecond: 2, clock: new ManualClock() });
    expect(reserveMany(pacer.reserve, 'n', 3)).toEqual([0, 500, 1_000]);
  });

  it('counts waits from the current time as the clock moves', () => {
    const clock = new ManualClock();
    const pacer = createPacer({ ratePerSecond: 2, clock });
    reserveMany(pacer.reserve, 'n', 3); // slots at 0, 500 and 1000 ms
    clock.advance(1_000);
    expect(pacer.reserve('n')).toBe(500);
  });

  it('keeps every key to its own budget', () => {
    const pacer = createPacer({ ratePerSecond: 1, clock: new ManualClock() });
    expect(pacer.reserve('a')).toBe(0);
    expect(pacer.reserve('b')).toBe(0);
    expect(pacer.reserve('a')).toBe(1_000);
  });

  it('earns back one burst slot per interval of idleness, up to the full burst', () => {
    const clock = new ManualClock();
    const pacer = createPacer({ ratePerSecond: 1 / 6, burst: 3, clock });
    reserveMany(pacer.reserve, 'c', 3);
    clock.advance(6_000);
    expect(reserveMany(pacer.reserve, 'c', 2)).toEqual([0, 6_000]);
    clock.advance(60_000);
    expect(reserveMany(pacer.reserve, 'c', 4)).toEqual([0, 0, 0, 6_000]);
  });

  it("defaults to Meta's 80 messages per second per phone number", () => {
    const pacer = createPacer({ ...PHONE_NUMBER_THROUGHPUT, clock: new ManualClock() });
    const waits = reserveMany(pacer.reserve, 'phone', 82);
    expect(waits.slice(0, 80).every((wait) => wait === 0)).toBe(true);
    // 12.5 ms apart, rounded up so a send never lands before its slot.
    expect(waits.slice(80)).toEqual([13, 25]);
  });

  it("defaults to Meta's pair rate: a short burst, then one message every 6 s", () => {
    const pacer = createPacer({ ...PAIR_RATE, clock: new ManualClock() });
    expect(reserveMany(pacer.reserve, 'phone:customer', 5)).toEqual([0, 0, 0, 6_000, 12_000]);
  });

  it('keeps the state of a busy key when idle keys are swept away', () => {
    const clock = new ManualClock();
    const pacer = createPacer({ ratePerSecond: 1 / 6, clock });
    reserveMany(pacer.reserve, 'busy', 10); // booked a minute ahead
    clock.advance(1_000);
    for (let i = 0; i < 3_000; i++) pacer.reserve(`customer-${i}`);
    clock.advance(7_000);
    for (let i = 3_000; i < 6_000; i++) pacer.reserve(`customer-${i}`);
    expect(pacer.reserve('busy')).toBe(60_000 - 8_000);
  });

  it.each([
    { ratePerSecond: 0 },
    { ratePerSecond: -1 },
    { ratePerSecond: Number.NaN },
    { ratePerSecond: 1, burst: 0 },
    { ratePerSecond: 1, burst: 1.5 },
  ])('rejects %o', (options) => {
    expect(() => createPacer({ ...options, clock: new ManualClock() })).toThrow(RangeError);
  });

  it('never schedules more than burst + window / interval sends in any window', () => {
    // Rates whose interval is a whole number of ms, so rounding cannot blur the count.
    const rates = [0.1, 1 / 6, 0.5, 1, 2, 4, 5, 8, 10, 20, 25, 40, 50];
    const step = fc.oneof(fc.constant('send' as const), fc.integer({ min: 1, max: 20_000 }));
    fc.assert(
      fc.property(
        fc.constantFrom(...rates),
        fc.integer({ min: 1, max: 10 }),
        fc.array(step, { maxLength: 80 }),
        (ratePerSecond, burst, steps) => {
          const clock = new ManualClock(0);
          const pacer = createPacer({ ratePerSecond, burst, clock });
          const intervalMs = 1_000 / ratePerSecond;
          const sendTimes: number[] = [];
          for (const s of steps) {
            if (s === 'send') sendTimes.push(clock.now() + pacer.reserve('k'));
            else clock.advance(s);
          }
          sendTimes.sort((a, b) => a - b);
          for (const windowMs of [0, intervalMs, 5 * intervalMs]) {
            for (const start of sendTimes) {
              const inWindow = sendTimes.filter((t) => t >= start && t <= start + windowMs).length;
              expect(inWindow).toBeLessThanOrEqual(burst + Math.floor(windowMs / intervalMs));
            }
          }
        },
      ),
    );
  });
});
