import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/persistence/batcher.ts';

/** Submits the first input, lets its batch start, then submits the others while it runs. */
async function submitAfterFirst<O>(batcher: Batcher<number, O>, [first, ...rest]: number[]) {
  const calls = [batcher.submit(first!)];
  await Promise.resolve();
  calls.push(...rest.map((input) => batcher.submit(input)));
  return calls;
}

/** A promise the test resolves: holds the first batch open while the next calls queue. */
function gate() {
  let release: () => void = () => undefined;
  const first = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { first, release };
}

describe('Batcher', () => {
  it('runs the calls made together in one batch at once, and batches the calls made while it runs', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>({
      maxBatchSize: 10,
      run: async (inputs) => {
        batches.push(inputs);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return inputs.map((input) => ({ ok: true, value: input * 2 }));
      },
    });
    expect(await Promise.all([1, 2].map((input) => batcher.submit(input)))).toEqual([2, 4]);
    expect(await Promise.all(await submitAfterFirst(batcher, [3, 4, 5, 6]))).toEqual([6, 8, 10, 12]);
    expect(batches).toEqual([[1, 2], [3], [4, 5, 6]]);
  });

  it('settles each call on its own outcome, and fails them all when the batch throws', async () => {
    let fail = false;
    const batcher = new Batcher<number, number>({
      maxBatchSize: 2,
      run: async (inputs) => {
        if (fail) throw new Error('database is down');
        return inputs.map((input) =>
          input % 2 === 0 ? { ok: true, value: input } : { ok: false, error: new Error(`odd ${input}`) },
        );
      },
    });
    const settled = await Promise.allSettled([1, 2, 3].map((input) => batcher.submit(input)));
    expect(settled.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
    fail = true;
    await expect(batcher.submit(4)).rejects.toThrow('database is down');
  });

  /** An error as the database driver gives it: a message and a SQLSTATE. */
  const databaseError = (code: string) => Object.assign(new Error(`SQLSTATE ${code}`), { code });

  it('runs each call alone when the database refuses a batch, so only the bad call fails', async () => {
    const batches: number[][] = [];
    const { first, release } = gate();
    const batcher = new Batcher<number, number>({
      maxBatchSize: 10,
      run: async (inputs) => {
        batches.push(inputs);
        if (inputs[0] === 0) await first;
        // 22003: numeric value out of range, as Postgres says of an int beyond 32 bits.
        if (inputs.includes(13)) throw databaseError('22003');
        return inputs.map((input) => ({ ok: true, value: input * 2 }));
      },
    });
    const settled = Promise.allSettled(await submitAfterFirst(batcher, [0, 1, 13, 2]));
    release();
    const results = await settled;
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : 'rejected'))).toEqual([
      0,
      2,
      'rejected',
      4,
    ]);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: '22003' });
    expect(batches).toEqual([[0], [1, 13, 2], [1], [13], [2]]);
  });

  it('fails the whole batch at once when the database did not answer it', async () => {
    for (const failure of [databaseError('57014'), databaseError('08006'), new Error('connection refused')]) {
      const batches: number[][] = [];
      const { first, release } = gate();
      const batcher = new Batcher<number, number>({
        maxBatchSize: 10,
        run: async (inputs) => {
          batches.push(inputs);
          if (inputs[0] === 0) {
            await first;
            return [{ ok: true, value: 0 }];
          }
          throw failure;
        },
      });
      const settled = Promise.allSettled(await submitAfterFirst(batcher, [0, 1, 2, 3]));
      release();
      const results = await settled;
      expect(results.map((result) => result.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'rejected',
      ]);
      // One try for the three, not one each: a database timing out would make each wait as long.
      expect(batches).toEqual([[0], [1, 2, 3]]);
    }
  });
});
