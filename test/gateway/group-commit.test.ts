import { describe, expect, it } from 'vitest';
import { CommitDeadlineError } from '../../src/gateway/commit-deadline.ts';
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

  it('rejects a submission not committed by its deadline, queued or committing, and goes on once the store answers', async () => {
    const store = manualStore();
    const group = new GroupCommit<string>({
      commit: (items) => store.commit(items),
      maxBatchSize: 100,
      deadlineMs: 30,
    });
    // 'a' is committing and hangs; 'b' and 'c' queue behind it.
    const hung = group.submit(['a']);
    const queued = [group.submit(['b']), group.submit(['c'])];
    const started = performance.now();
    const outcomes = await Promise.allSettled([hung, ...queued]);
    expect(performance.now() - started).toBeLessThan(1_000);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(CommitDeadlineError) });
    }
    // The queued ones left the queue: when the hung commit ends, nothing of theirs is committed.
    await store.release();
    expect(store.commits).toEqual([['a']]);
    // 'a' was committed after all, though its caller was told otherwise: the safe way round.
    expect(store.durable).toEqual(new Set(['a']));
    const next = group.submit(['d']);
    await store.release();
    await expect(next).resolves.toBeUndefined();
    expect(store.commits).toEqual([['a'], ['d']]);
  });

  it('does not commit alone a submission whose deadline passed while its batch failed', async () => {
    const store = manualStore({ refuse: (item) => item === 'poison' });
    const group = new GroupCommit<string>({
      commit: (items) => store.commit(items),
      maxBatchSize: 100,
      deadlineMs: 60,
    });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const first = group.submit(['a']);
    const late = group.submit(['late']);
    await sleep(30);
    const poison = group.submit(['poison']);
    const outcomes = Promise.allSettled([late, poison]);
    await store.release();
    await first;
    // 'late' and 'poison' are committing together; the batch fails once 'late' is past its deadline.
    await sleep(45);
    await store.release();
    await store.release();
    const [lateOutcome, poisonOutcome] = await outcomes;
    expect(lateOutcome).toMatchObject({ status: 'rejected', reason: expect.any(CommitDeadlineError) });
    expect(poisonOutcome).toMatchObject({ status: 'rejected', reason: new Error('refused poison') });
    expect(store.commits).toEqual([['a'], ['late', 'poison'], ['poison']]);
  });
});
