import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/schema.ts';
import { insertSessionEvents } from '../../src/persistence/session-event-rows.ts';
import { bothDatabases, freshWorkspaces, type TestDatabase } from '../support/database.ts';
import { seedConversation } from '../support/outbox-seed.ts';

describe.each(await bothDatabases())('session events on $adapter', ({ adapter, openDatabase, skip }) => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  let acme: string;
  let globex: string;

  beforeAll(async () => {
    if (skip) return;
    database = await openDatabase();
    db = database.db;
  });

  afterAll(async () => {
    await database?.close();
  });

  beforeEach(async ({ skip: skipTest }) => {
    if (skip) skipTest('Postgres is not running');
    await freshWorkspaces(db, ['session_events', 'outbox', 'messages', 'sessions']);
    const seed = (workspaceId: string, waId: string) =>
      seedConversation(db, {
        workspaceId,
        phoneNumberId: '100001',
        waId,
        messages: [],
        customerWroteAt: null,
        now: Date.now(),
      });
    acme = (await seed('acme', '3101')).sessionId;
    globex = (await seed('globex', '3102')).sessionId;
  });

  const event = (workspaceId: string, sessionId: string, n: number) => ({
    workspaceId,
    sessionId,
    payload: JSON.stringify({ type: 'test', n }),
  });

  async function stored() {
    const rows = await db
      .selectFrom('session_events')
      .select(['id', 'workspace_id', 'payload'])
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      workspaceId: row.workspace_id,
      n: (row.payload as { n: number }).n,
    }));
  }

  it('stores the events in the order given, and returns their ids in that order', async () => {
    const ids = await db
      .transaction()
      .execute((trx) =>
        insertSessionEvents(trx, [
          event('globex', globex, 1),
          event('acme', acme, 2),
          event('globex', globex, 3),
        ]),
      );
    expect(await stored()).toEqual([
      { id: ids[0], workspaceId: 'globex', n: 1 },
      { id: ids[1], workspaceId: 'acme', n: 2 },
      { id: ids[2], workspaceId: 'globex', n: 3 },
    ]);
    expect(await db.transaction().execute((trx) => insertSessionEvents(trx, []))).toEqual([]);
  });

  /** Inserts one event in a transaction that stays open until `commit` is called. */
  function openWriter(workspaceId: string, sessionId: string, n: number) {
    let commit!: () => void;
    const committing = new Promise<void>((resolve) => {
      commit = resolve;
    });
    let inserted = false;
    const done = db.transaction().execute(async (trx) => {
      const [id] = await insertSessionEvents(trx, [event(workspaceId, sessionId, n)]);
      inserted = true;
      await committing;
      return id!;
    });
    return { done, commit, inserted: () => inserted };
  }

  it.skipIf(adapter === 'pglite')(
    'holds the workspace from the insert until commit: its next writer waits, and takes a later id',
    async () => {
      const first = openWriter('acme', acme, 1);
      await expect.poll(first.inserted).toBe(true);
      const second = openWriter('acme', acme, 2);
      const other = openWriter('globex', globex, 3);
      // Another workspace's writer is not held up.
      await expect.poll(other.inserted).toBe(true);
      other.commit();
      await other.done;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(second.inserted()).toBe(false);
      first.commit();
      const firstId = await first.done;
      await expect.poll(second.inserted).toBe(true);
      second.commit();
      expect(BigInt(await second.done)).toBeGreaterThan(BigInt(firstId));
    },
  );
});
