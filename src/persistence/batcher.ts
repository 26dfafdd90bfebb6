/** One call's outcome inside a batch: calls succeed or fail on their own, whoever they were batched with. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Call<I, O> {
  input: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export interface BatcherOptions<I, O> {
  /** Does a batch of calls at once; returns one outcome per input, in order. Throwing fails every call. */
  run(inputs: I[]): Promise<Settled<O>[]>;
  maxBatchSize: number;
  /** Observes each batch's size (metrics, tests). */
  onBatch?(size: number): void;
}

/**
 * Coalesces concurrent calls into batches, the way group commit does: a call made while no batch runs starts
 * one at once; calls made while one runs wait and go together in the next. Under load, many sessions' work
 * shares one round trip (and one commit) instead of queueing for a connection each; alone, a call waits for
 * nothing.
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
    if (!this.#running) void this.#drain();
    return done;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) await this.#runBatch(this.#queue.splice(0, this.#options.maxBatchSize));
    } finally {
      this.#running = false;
    }
  }

  async #runBatch(calls: Call<I, O>[]): Promise<void> {
    this.#options.onBatch?.(calls.length);
    try {
      const outcomes = await this.#options.run(calls.map((call) => call.input));
      calls.forEach((call, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) call.resolve(outcome.value);
        else call.reject(outcome ? outcome.error : new Error('the batch returned no outcome for this call'));
      });
    } catch (error) {
      for (const call of calls) call.reject(error);
    }
  }
}
