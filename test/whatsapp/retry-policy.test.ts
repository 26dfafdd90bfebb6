import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/whatsapp/retry-policy.ts';

const half = () => 0.5;

describe('backoffDelay', () => {
  it('picks within a ceiling that starts at baseMs and doubles with each attempt', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, { random: half }))).toEqual([
      250, 500, 1_000, 2_000, 4_000,
    ]);
  });

  it('spans the whole range from zero up to the ceiling (full jitter)', () => {
    expect(backoffDelay(3, { random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { random: () => 0.999_999 })).toBe(1_999);
  });

  it('never lets the ceiling pass maxMs', () => {
    expect(backoffDelay(20, { random: half })).toBe(30_000);
    expect(backoffDelay(20, { random: half, baseMs: 100, maxMs: 1_000 })).toBe(500);
  });

  it('stays finite for an attempt count large enough to overflow the exponent', () => {
    expect(backoffDelay(5_000, { random: half })).toBe(30_000);
  });

  it('waits at least what the server asked for', () => {
    expect(backoffDelay(1, { random: () => 0, retryAfterMs: 5_000 })).toBe(5_000);
  });

  it('keeps a jittered delay that is already longer than the server asked for', () => {
    expect(backoffDelay(10, { random: half, retryAfterMs: 5_000 })).toBe(30_000);
  });

  it('obeys the server even beyond maxMs', () => {
    expect(backoffDelay(1, { random: half, retryAfterMs: 120_000 })).toBe(120_000);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects attempt %s', (attempt) => {
    expect(() => backoffDelay(attempt)).toThrow(RangeError);
  });

  it('always lands in [retryAfterMs, …) and under the ceiling when the server asked for nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: undefined }),
        (attempt, baseMs, maxMs, r, retryAfterMs) => {
          const delay = backoffDelay(attempt, { baseMs, maxMs, random: () => r, retryAfterMs });
          const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(retryAfterMs ?? 0);
          if (retryAfterMs === undefined) expect(delay).toBeLessThan(ceiling);
          else expect(delay).toBeLessThan(Math.max(ceiling, retryAfterMs + 1));
        },
      ),
    );
  });
});
