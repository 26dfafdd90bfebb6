/**
 * One session's queue of work: jobs run one at a time, in the order they were posted.
 * A failing job is reported to its poster and does not stop the jobs behind it.
 */
export class Mailbox {
  #tail: Promise<unknown> = Promise.resolve();
  #depth = 0;

  get depth(): number {
    return this.#depth;
  }

  post<T>(job: () => Promise<T>): Promise<T> {
    this.#depth++;
    const run = this.#tail.then(job);
    const settle = () => {
      this.#depth--;
    };
    this.#tail = run.then(settle, settle);
    return run;
  }

  /** Resolves when every job posted so far has finished. */
  async idle(): Promise<void> {
    while (this.#depth > 0) await this.#tail;
  }
}
