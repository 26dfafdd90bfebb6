/** The database did not confirm a commit in time: the request is answered 503, and Meta retries it. */
export class CommitDeadlineError extends Error {
  override readonly name = 'CommitDeadlineError';

  constructor(deadlineMs: number) {
    super(`not committed within ${deadlineMs} ms`);
  }
}

/**
 * `work`, or a CommitDeadlineError once `deadlineMs` have passed without it settling. The work goes on: what
 * it commits late is redelivered by Meta and deduplicated, which is safe; a 200 for what was never
 * committed would not be.
 */
export function withinDeadline<T>(work: Promise<T>, deadlineMs: number | undefined): Promise<T> {
  if (deadlineMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CommitDeadlineError(deadlineMs)), deadlineMs);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
