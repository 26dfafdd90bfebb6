import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/persistence/batcher.ts';

describe('Batcher', () => {
  it('runs a lone call at once and batches the calls made while it runs', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>({
      maxBatchSize: 10,
      run: async (inputs) => {
        batches.push(inputs);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return inputs.map((input) => ({ ok: true, value: input * 2 }));
      },
    });
    const results = await Promise.all([1, 2, 3, 4].map((input) => batcher.submit(input)));
    expect(results).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
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
});
