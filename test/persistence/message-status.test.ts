import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  applyHeldStatuses,
  createStatusAdvancer,
  HELD_STATUS_TTL_MS,
  holdStatuses,
  type StatusChange,
} from '../../src/persistence/message-status.ts';
import { createPgliteTestDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';

const T0 = Date.UTC(2026, 0, 1);

describe.each([
  { adapter: 'default', openDatabase: createTestDatabase },
  { adapter: 'pglite', openDatabase: createPgliteTestDatabase },
])('message statuses on $adapter', ({ openDatabase }) => {
  let database: TestDatabase;

  /** An outbound message, sent (with its wamid) or still pending (without). */
  async function outbound(workspaceId: string, wamid: string | null): Promise<string> {
    const row = await database.db
      .insertInto('messages')
      .values({
        workspace_id: workspaceId,
        session_key: '100001-31600000001',
        partition: 3,
        direction: 'out',
        author: 'ai',
        wamid,
        phone_number_id: '100001',
        customer_wa_id: '31600000001',
        type: 'text',
        body: 'hi',
        payload: JSON.stringify({ type: 'text', text: { body: 'hi' } }),
        sent_at: new Date(T0),
        status: wamid === null ? 'pending' : 'sent',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function statuses() {
    const { rows } = await sql<{
      workspace_id: string;
      wamid: string;
      status: string;
      error_code: number | null;
    }>`
      select workspace_id, wamid, status, error_code from messages order by workspace_id, wamid`.execute(
      database.db,
    );
    return rows;
  }

  const notices = async () =>
    (await database.db.selectFrom('failure_notices').select('message_id').execute()).map(
      (row) => row.message_id,
    );
  const held = () =>
    database.db.selectFrom('unmatched_statuses').select(['workspace_id', 'wamid', 'status']).execute();
  const change = (
    overrides: Partial<StatusChange> & Pick<StatusChange, 'wamid' | 'status'>,
  ): StatusChange => ({
    workspaceId: 'acme',
    error: null,
    receivedAt: T0,
    ...overrides,
  });

  beforeAll(async () => {
    database = await openDatabase();
    await database.db
      .insertInto('workspaces')
      .values([
        { id: 'acme', name: 'Acme' },
        { id: 'globex', name: 'Globex' },
      ])
      .execute();
  });

  beforeEach(async () => {
    await sql`truncate messages, unmatched_statuses restart identity cascade`.execute(database.db);
  });

  afterAll(async () => {
    await database?.close();
  });

  it('applies concurrent changes as each alone would: forward only, per workspace, in arrival order', async () => {
    await outbound('acme', 'wamid.one');
    await outbound('acme', 'wamid.two');
    const failing = await outbound('globex', 'wamid.one');
    const advance = createStatusAdvancer(database.db);
    const results = await Promise.all([
      advance(change({ wamid: 'wamid.two', status: 'delivered' })),
      // Queued behind the first: these go in one batch, read before delivered for wamid.one.
      advance(change({ wamid: 'wamid.one', status: 'read' })),
      advance(change({ wamid: 'wamid.one', status: 'delivered' })),
      advance(
        change({
          workspaceId: 'globex',
          wamid: 'wamid.one',
          status: 'failed',
          error: { code: 131026, title: 'Undeliverable' },
        }),
      ),
      advance(change({ wamid: 'wamid.unknown', status: 'read' })),
      advance(change({ workspaceId: 'globex', wamid: 'wamid.two', status: 'read' })),
    ]);
    expect(results).toEqual(['advanced', 'advanced', 'unchanged', 'advanced', 'unmatched', 'unmatched']);
    expect(await statuses()).toEqual([
      { workspace_id: 'acme', wamid: 'wamid.one', status: 'read', error_code: null },
      { workspace_id: 'acme', wamid: 'wamid.two', status: 'delivered', error_code: null },
      { workspace_id: 'globex', wamid: 'wamid.one', status: 'failed', error_code: 131026 },
    ]);
    // The failure left its session a notice, in the same statement; nothing else did.
    expect(await notices()).toEqual([failing]);
  });

  it('holds statuses of unknown wamids, the highest of each, and applies them once the wamid is stored', async () => {
    const pending = await outbound('acme', null);
    await holdStatuses(database.db, [
      change({ wamid: 'wamid.early', status: 'delivered' }),
      change({ wamid: 'wamid.early', status: 'read' }),
    ]);
    // A later, lower status does not replace the held one.
    await holdStatuses(database.db, [change({ wamid: 'wamid.early', status: 'sent' })]);
    expect(await held()).toEqual([{ workspace_id: 'acme', wamid: 'wamid.early', status: 'read' }]);

    // Not stored yet: nothing applies, the status stays held.
    expect(await applyHeldStatuses(database.db, [{ workspaceId: 'acme', wamid: 'wamid.early' }], T0)).toBe(0);
    expect(await held()).toHaveLength(1);

    // The sender stores the wamid (markSent); then the held status applies, once.
    await database.db
      .updateTable('messages')
      .set({ wamid: 'wamid.early', status: 'sent' })
      .where('id', '=', pending)
      .execute();
    // Another workspace's wamid of the same name is not this one.
    await applyHeldStatuses(database.db, [{ workspaceId: 'globex', wamid: 'wamid.early' }], T0);
    expect(await held()).toHaveLength(1);
    await applyHeldStatuses(database.db, [{ workspaceId: 'acme', wamid: 'wamid.early' }], T0);
    expect(await statuses()).toEqual([
      { workspace_id: 'acme', wamid: 'wamid.early', status: 'read', error_code: null },
    ]);
    expect(await held()).toEqual([]);
  });

  it('never moves a message back with a held status, and a held failure leaves a notice', async () => {
    const read = await outbound('acme', 'wamid.read');
    const sent = await outbound('acme', 'wamid.sent');
    await database.db.updateTable('messages').set({ status: 'read' }).where('id', '=', read).execute();
    await holdStatuses(database.db, [
      change({ wamid: 'wamid.read', status: 'delivered' }),
      change({
        wamid: 'wamid.sent',
        status: 'failed',
        error: { code: 131047, title: 'Re-engagement message' },
      }),
    ]);
    const noticed = await applyHeldStatuses(
      database.db,
      [
        { workspaceId: 'acme', wamid: 'wamid.read' },
        { workspaceId: 'acme', wamid: 'wamid.sent' },
      ],
      T0,
    );
    expect(noticed).toBe(1);
    expect(await statuses()).toEqual([
      { workspace_id: 'acme', wamid: 'wamid.read', status: 'read', error_code: null },
      { workspace_id: 'acme', wamid: 'wamid.sent', status: 'failed', error_code: 131047 },
    ]);
    expect(await notices()).toEqual([sent]);
    expect(await held()).toEqual([]);
  });

  it('drops held statuses a day after they arrived', async () => {
    await holdStatuses(database.db, [change({ wamid: 'wamid.stranger', status: 'read' })]);
    await holdStatuses(database.db, [
      change({ wamid: 'wamid.later', status: 'read', receivedAt: T0 + HELD_STATUS_TTL_MS - 1 }),
    ]);
    expect((await held()).map((row) => row.wamid).sort()).toEqual(['wamid.later', 'wamid.stranger']);
    await holdStatuses(database.db, [
      change({ wamid: 'wamid.latest', status: 'read', receivedAt: T0 + HELD_STATUS_TTL_MS + 1 }),
    ]);
    expect((await held()).map((row) => row.wamid).sort()).toEqual(['wamid.later', 'wamid.latest']);
  });
});
