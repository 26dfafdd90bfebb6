/** One call's outcome inside a batch: calls succeed or fail on their own, whoever they were batched with. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Call<I, O> {
  input: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export interface BatcherOptions<I, O> {
  /**
   * Does a batch of calls at once; returns one outcome per input, in order. When it throws for a batch of several
   * calls and the database refused the batch (see `mayBeOneCallsFault`), each call is run again alone, so one
   * call's bad data fails that call only.
   */
  run(inputs: I[]): Promise<Settled<O>[]>;
  maxBatchSize: number;
  /** Observes each batch's size (metrics, tests). */
  onBatch?(size: number): void;
}

/**
 * Coalesces concurrent calls into batches, the way group commit does: a call made while no batch runs starts
 * one as soon as the code running now yields, with the calls it made too; calls made while one runs wait and
 * go together in the next. Under load, many sessions' work shares one round trip (and one commit) instead of
 * queueing for a connection each; alone, a call waits for nothing but a microtask.
 */
export class Batcher<I, O> {
  readonly #options: BatcherOptions<I, O>;
  #queue: Call<I, O>[] = [];
  #running = false;

  constructor(options: BatcherOptions<I, O>) {
    this.#options = options;
  }

  submit(input: I): Promise<O> {
    const done = new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
    });
    if (!this.#running) {
      this.#running = true;
      // After the calls queued by the code running now (say, every mailbox a notice woke): one batch, not a
      // batch of the first call alone and another of the rest.
      queueMicrotask(() => void this.#drain());
    }
    return done;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) await this.#runBatch(this.#queue.splice(0, this.#options.maxBatchSize));
    } finally {
      this.#running = false;
    }
  }

  async #runBatch(calls: Call<I, O>[]): Promise<void> {
    try {
      await this.#run(calls);
    } catch (error) {
      if (calls.length === 1 || !mayBeOneCallsFault(error)) {
        for (const call of calls) call.reject(error);
        return;
      }
      // Like GroupCommit: one call's data the database refuses must not fail the calls it was batched with.
      for (const call of calls) {
        try {
          await this.#run([call]);
        } catch (alone) {
          call.reject(alone);
        }
      }
    }
  }

  async #run(calls: Call<I, O>[]): Promise<void> {
    this.#options.onBatch?.(calls.length);
    const outcomes = await this.#options.run(calls.map((call) => call.input));
    calls.forEach((call, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) call.resolve(outcome.value);
      else call.reject(outcome ? outcome.error : new Error('the batch returned no outcome for this call'));
    });
  }
}

/**
 * Whether the database answered and refused the batch's statements for what they held (SQLSTATE class 21
 * cardinality, 22 data exception, 23 integrity constraint, 40 transaction rollback, 42 syntax or access rule,
 * 54 program limit), which one call's data, or two calls meeting in one statement, can cause. A database that
 * is unreachable, overloaded, timing out or shutting down would fail each call alone just the same, after as
 * long a wait each: then the whole batch fails at once.
 */
function mayBeOneCallsFault(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^(?:2[123]|4[02]|54)[0-9A-Z]{3}$/.test(code);
}
