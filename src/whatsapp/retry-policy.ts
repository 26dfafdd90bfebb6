export interface BackoffOptions {
  /** The ceiling of the first retry's delay; each later retry doubles it. */
  baseMs?: number;
  /** The ceiling no delay exceeds, unless the server asked for longer. */
  maxMs?: number;
  /** A number in [0, 1): injected so tests can pin the jitter. */
  random?: () => number;
  /** What the server asked for (`Retry-After`): the delay never goes below it. */
  retryAfterMs?: number;
}

/**
 * How long to wait before retry number `attempt` (1 for the first retry): "full jitter" exponential backoff,
 * a uniform pick in [0, min(maxMs, baseMs * 2^(attempt - 1))). Full jitter spreads the retries of many
 * senders that failed together (a Meta outage, a throughput 130429) instead of having them return in step.
 */
export function backoffDelay(
  attempt: number,
  { baseMs = 500, maxMs = 60_000, random = Math.random, retryAfterMs = 0 }: BackoffOptions = {},
): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  }
  // 2 ** attempt overflows to Infinity for huge attempts, which Math.min turns back into maxMs.
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  // The server's own wait outranks maxMs: coming back sooner only earns another rejection.
  return Math.max(Math.floor(random() * ceiling), retryAfterMs);
}
