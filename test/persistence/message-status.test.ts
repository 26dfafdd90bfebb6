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

  const SESSION_KEY = '100001-31600000001';
  /** Each workspace's one session, which wrote its outbound messages. */
  const sessionOf = (workspaceId: string) => `session-${workspaceId}`;

  /** An outbound message of the workspace's session, sent (with its wamid) or still pending (without). */
  async function outbound(workspaceId: string, wamid: string | null): Promise<string> {
    const row = await database.db
      .insertInto('messages')
      .values({
        workspace_id: workspaceId,
        session_id: sessionOf(workspaceId),
        session_key: SESSION_KEY,
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

  /** The live inbox's view: the session events the statuses left, in id (commit) order. */
  const events = async () =>
    (
      await database.db
        .selectFrom('session_events')
        .select(['workspace_id', 'session_id', 'payload'])
        .orderBy('id')
        .execute()
    ).map(
      (row): Record<string, unknown> => ({
        workspaceId: row.workspace_id,
        sessionId: row.session_id,
        ...(row.payload as Record<string, unknown>),
      }),
    );

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
    await database.db
      .insertInto('sessions')
      .values(
        ['acme', 'globex'].map((workspaceId) => ({
          id: sessionOf(workspaceId),
          workspace_id: workspaceId,
          session_key: SESSION_KEY,
          partition: 3,
          phone_number_id: '100001',
          customer_wa_id: '31600000001',
          state: 'human',
          snapshot: '{}',
          machine_version: 2,
          version: 1,
          created_at: new Date(T0),
          updated_at: new Date(T0),
        })),
      )
      .execute();
  });

  beforeEach(async () => {
    await sql`truncate messages, unmatched_statuses, session_events restart identity cascade`.execute(
      database.db,
    );
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

  it('leaves a session event for each message it moves, and rings its workspace after the commit', async () => {
    const one = await outbound('acme', 'wamid.one');
    const failing = await outbound('globex', 'wamid.one');
    const rang: unknown[] = [];
    const advance = createStatusAdvancer(database.db, (sessions) => {
      rang.push(sessions);
    });
    expect(await advance(change({ wamid: 'wamid.one', status: 'delivered' }))).toBe('advanced');
    expect(await advance(change({ wamid: 'wamid.one', status: 'read', receivedAt: T0 + 1 }))).toBe(
      'advanced',
    );
    // A duplicate or a late lower status moves nothing: no event, no bell.
    expect(await advance(change({ wamid: 'wamid.one', status: 'delivered' }))).toBe('unchanged');
    expect(await advance(change({ wamid: 'wamid.unknown', status: 'read' }))).toBe('unmatched');
    const failure = { code: 131026, title: 'Undeliverable' };
    await advance(change({ workspaceId: 'globex', wamid: 'wamid.one', status: 'failed', error: failure }));

    const event = (
      workspaceId: string,
      messageId: string,
      status: string,
      at = T0,
      error = null as unknown,
    ) => ({
      workspaceId,
      sessionId: sessionOf(workspaceId),
      type: 'message.status',
      messageId,
      wamid: 'wamid.one',
      status,
      error,
      at,
    });
    expect(await events()).toEqual([
      event('acme', one, 'delivered'),
      event('acme', one, 'read', T0 + 1),
      event('globex', failing, 'failed', T0, failure),
    ]);
    const address = (workspaceId: string) => [{ workspaceId, sessionKey: SESSION_KEY, partition: 3 }];
    expect(rang).toEqual([address('acme'), address('acme'), address('globex')]);
  });

  it('fails only the change the database refuses; the changes batched with it are applied', async () => {
    await outbound('acme', 'wamid.one');
    await outbound('acme', 'wamid.two');
    await outbound('acme', 'wamid.three');
    const advance = createStatusAdvancer(database.db);
    const settled = await Promise.allSettled([
      advance(change({ wamid: 'wamid.one', status: 'delivered' })),
      // Batched together behind the first: an error code the integer column cannot hold (the parser stops
      // it on the webhook; here the database does), between two good changes.
      advance(change({ wamid: 'wamid.two', status: 'delivered' })),
      advance(
        change({ wamid: 'wamid.three', status: 'failed', error: { code: 3_000_000_000, title: 'Too big' } }),
      ),
      advance(change({ wamid: 'wamid.one', status: 'read' })),
    ]);
    expect(settled.map((result) => (result.status === 'fulfilled' ? result.value : 'rejected'))).toEqual([
      'advanced',
      'advanced',
      'rejected',
      'advanced',
    ]);
    expect((settled[2] as PromiseRejectedResult).reason).toMatchObject({ code: '22003' });
    expect((await statuses()).map((row) => row.status)).toEqual(['read', 'sent', 'delivered']);
    expect((await events()).map((row) => row.status)).toEqual(['delivered', 'delivered', 'read']);
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
    const rang: unknown[] = [];
    await applyHeldStatuses(
      database.db,
      [{ workspaceId: 'acme', wamid: 'wamid.early' }],
      T0 + 5,
      (sessions) => {
        rang.push(sessions);
      },
    );
    expect(await statuses()).toEqual([
      { workspace_id: 'acme', wamid: 'wamid.early', status: 'read', error_code: null },
    ]);
    expect(await held()).toEqual([]);
    // Applied late, shown live all the same.
    expect(await events()).toEqual([
      expect.objectContaining({ type: 'message.status', messageId: pending, status: 'read', at: T0 + 5 }),
    ]);
    expect(rang).toEqual([[{ workspaceId: 'acme', sessionKey: SESSION_KEY, partition: 3 }]]);
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
