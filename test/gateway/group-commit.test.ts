import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/gateway/group-commit.ts';

/** A store that commits when the test says so, remembering what each commit made durable. */
function manualStore(options: { refuse?: (item: string) => boolean } = {}) {
  const durable = new Set<string>();
  const commits: string[][] = [];
  const pending: (() => void)[] = [];
  return {
    durable,
    commits,
    async commit(items: string[]) {
      commits.push(items);
      await new Promise<void>((resolve) => pending.push(resolve));
      if (items.some((item) => options.refuse?.(item))) throw new Error(`refused ${items.join(',')}`);
      for (const item of items) durable.add(item);
    },
    /** Lets every commit started so far finish. */
    async release() {
      for (const resolve of pending.splice(0)) resolve();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('GroupCommit', () => {
  it('commits at once when idle and batches whatever arrives while a commit runs', async () => {
    const store = manualStore();
    const group = new GroupCommit<string>({
      commit: (items) => store.commit(items),
      maxBatchSize: 100,
    });
    const first = group.submit(['a']);
    const rest = [group.submit(['b', 'c']), group.submit(['d']), group.submit(['e'])];
    expect(store.commits).toEqual([['a']]);
    await store.release();
    await first;
    expect(store.commits).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    await store.release();
    await Promise.all(rest);
    expect(store.commits).toHaveLength(2);
  });

  it('resolves a submission only once the commit holding its items is durable', async () => {
    const store = manualStore();
    const group = new GroupCommit<string>({
      commit: (items) => store.commit(items),
      maxBatchSize: 100,
    });
    const seenAtResolution = new Map<string, boolean>();
    const submissions = ['a', 'b', 'c', 'd'].map((item) =>
      group.submit([item]).then(() => seenAtResolution.set(item, store.durable.has(item))),
    );
    for (let round = 0; round < 3; round++) await store.release();
    await Promise.all(submissions);
    expect([...seenAtResolution]).toEqual([
      ['a', true],
      ['b', true],
      ['c', true],
      ['d', true],
    ]);
  });

  it('keeps batches under the size limit by whole submissions', async () => {
    const store = manualStore();
    const group = new GroupCommit<string>({
      commit: (items) => store.commit(items),
      maxBatchSize: 3,
    });
    const all = [
      group.submit(['a']),
      group.submit(['b', 'c']),
      group.submit(['d', 'e']),
      group.submit(['f']),
    ];
    for (let round = 0; round < 4; round++) await store.release();
    await Promise.all(all);
    expect(store.commits).toEqual([['a'], ['b', 'c'], ['d', 'e', 'f']]);
  });

  it('rejects every submission of a batch the store refused, and none of another', async () => {
    let down = true;
    const group = new GroupCommit<string>({
      maxBatchSize: 100,
      commit: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        if (down) throw new Error('database unavailable');
      },
    });
    const outcomes = await Promise.allSettled([
      group.submit(['a']),
      group.submit(['b']),
      group.submit(['c']),
    ]);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: new Error('database unavailable') });
    }
    down = false;
    await expect(group.submit(['d'])).resolves.toBeUndefined();
  });

  it('does not let one refused submission fail the others it was batched with', async () => {
    const store = manualStore({ refuse: (item) => item === 'poison' });
    const group = new GroupCommit<string>({
      commit: (items) => store.commit(items),
      maxBatchSize: 100,
    });
    const outcomes = Promise.allSettled([
      group.submit(['a']),
      group.submit(['b']),
      group.submit(['poison']),
      group.submit(['c']),
    ]);
    for (let round = 0; round < 6; round++) await store.release();
    expect((await outcomes).map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    // The batch of three failed as a whole, then each went alone.
    expect(store.commits).toEqual([['a'], ['b', 'poison', 'c'], ['b'], ['poison'], ['c']]);
    expect([...store.durable].sort()).toEqual(['a', 'b', 'c']);
  });
});
