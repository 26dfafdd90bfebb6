import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSessionStore } from '../../src/persistence/kysely-session-store.ts';
import { migrateToLatest } from '../../src/persistence/migrate.ts';
import { migrations } from '../../src/persistence/migrations/index.ts';
import type { Database } from '../../src/persistence/schema.ts';
import {
  type NewInboundMessage,
  type SessionWrite,
  StaleSessionError,
  type StoredSession,
} from '../../src/persistence/session-store.ts';
import { bothDatabases, freshWorkspaces, type TestDatabase } from '../support/database.ts';

const T0 = Date.parse('2025-03-01T10:00:00Z');
const KEY = '100001-31600000001';
const PARTITION = 7;

describe.each(await bothDatabases())('session store contract on $adapter', ({ openDatabase, skip }) => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  let store: ReturnType<typeof createSessionStore>;
  let wamids = 0;

  beforeAll(async () => {
    if (skip) return;
    database = await openDatabase();
    db = database.db;
    store = createSessionStore(db);
  });

  afterAll(async () => {
    await database?.close();
  });

  beforeEach(async ({ skip: skipTest }) => {
    if (skip) skipTest('Postgres is not running');
    await freshWorkspaces(db, [
      'session_events',
      'human_agents',
      'outbox',
      'messages',
      'sessions',
      'phone_numbers',
    ]);
  });

  function inbound(overrides: Partial<NewInboundMessage> = {}): NewInboundMessage {
    return {
      workspaceId: 'acme',
      sessionKey: KEY,
      partition: PARTITION,
      phoneNumberId: '100001',
      customerWaId: '31600000001',
      wamid: `wamid.${++wamids}`,
      type: 'text',
      body: 'hello',
      customerName: 'Ada',
      payload: { text: { body: 'hello' } },
      sentAt: T0,
      ...overrides,
    };
  }

  function create(overrides: Partial<SessionWrite['session']> = {}, extra: Partial<SessionWrite> = {}) {
    return store.writeSession({
      session: {
        id: `session-${++wamids}`,
        workspaceId: 'acme',
        sessionKey: KEY,
        partition: PARTITION,
        phoneNumberId: '100001',
        customerWaId: '31600000001',
        state: 'active',
        snapshot: { value: 'active', context: { history: [] } },
        machineVersion: 1,
        nextDeadlineAt: null,
        closedAt: null,
        ...overrides,
      },
      expectedVersion: null,
      appliedInboundIds: [],
      outbound: [],
      now: T0,
      ...extra,
    });
  }

  function update(
    session: StoredSession,
    {
      expectedVersion = session.version,
      appliedInboundIds = [],
      outbound = [],
      now = T0 + 1_000,
      ...changes
    }: Partial<Omit<SessionWrite, 'session'> & StoredSession> = {},
  ) {
    const { version: _read, ...current } = session;
    return store.writeSession({
      session: { ...current, ...changes },
      expectedVersion,
      appliedInboundIds,
      outbound,
      now,
    });
  }

  async function recordedIds(...messages: NewInboundMessage[]): Promise<string[]> {
    await store.recordInbound(messages);
    const pending = await store.listPendingInbound(messages[0]!.workspaceId, messages[0]!.sessionKey);
    return messages.map((message) => pending.find((row) => row.wamid === message.wamid)!.id);
  }

  const outboxCount = async () =>
    Number(
      (
        await db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('creates a session at version 1 and loads it back as written', async () => {
    const snapshot = {
      value: 'active',
      context: { history: [{ role: 'customer', text: 'hi' }], tags: [1, 2] },
    };
    const written = await create(
      { id: 's1', snapshot, nextDeadlineAt: T0 + 60_000, machineVersion: 3 },
      { now: T0 + 5 },
    );
    expect(written).toMatchObject({ id: 's1', version: 1, createdAt: T0 + 5, nextDeadlineAt: T0 + 60_000 });

    const loaded = await store.loadOpenSession('acme', KEY);
    expect(loaded).toEqual({
      id: 's1',
      workspaceId: 'acme',
      sessionKey: KEY,
      partition: PARTITION,
      phoneNumberId: '100001',
      customerWaId: '31600000001',
      state: 'active',
      snapshot,
      machineVersion: 3,
      version: 1,
      nextDeadlineAt: T0 + 60_000,
      createdAt: T0 + 5,
      closedAt: null,
    });
    expect(await store.loadOpenSession('acme', '100001-31699999999')).toBeUndefined();
  });

  it('bumps the version on every write and rejects a write naming an old one', async () => {
    const v1 = await create();
    const v2 = await update(v1, { state: 'ai_responding' });
    expect(v2).toMatchObject({ version: 2, state: 'ai_responding', createdAt: v1.createdAt });

    await expect(update(v1, { state: 'human' })).rejects.toThrow(StaleSessionError);
    expect(await store.loadOpenSession('acme', KEY)).toMatchObject({ version: 2, state: 'ai_responding' });
  });

  it('lets one of two writers of the same version win; nothing of the loser persists', async () => {
    const session = await create();
    const [first, second] = await recordedIds(inbound(), inbound());

    const results = await Promise.allSettled([
      update(session, {
        state: 'a',
        appliedInboundIds: [first!],
        outbound: [{ author: 'ai', type: 'text', body: 'from a', payload: { text: { body: 'from a' } } }],
      }),
      update(session, {
        state: 'b',
        appliedInboundIds: [second!],
        outbound: [{ author: 'ai', type: 'text', body: 'from b', payload: { text: { body: 'from b' } } }],
      }),
    ]);

    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result) => result.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(StaleSessionError);

    const winner = (won[0] as PromiseFulfilledResult<StoredSession>).value.state;
    const loserInbound = winner === 'a' ? second : first;
    expect(await store.loadOpenSession('acme', KEY)).toMatchObject({ version: 2, state: winner });
    expect((await store.listPendingInbound('acme', KEY)).map((row) => row.id)).toEqual([loserInbound]);
    const bodies = await db.selectFrom('messages').select('body').where('direction', '=', 'out').execute();
    expect(bodies).toEqual([{ body: `from ${winner}` }]);
    expect(await outboxCount()).toBe(1);
  });

  it('allows one open session per conversation, and a new one once it is closed', async () => {
    const open = await create({ id: 'first' });
    await expect(create({ id: 'second' })).rejects.toThrow(StaleSessionError);
    // The same id again is also another writer's session, not a crash.
    await expect(create({ id: 'first' })).rejects.toThrow(StaleSessionError);

    const closed = await update(open, { state: 'closed', closedAt: T0 + 2_000 });
    expect(closed.closedAt).toBe(T0 + 2_000);
    expect(await store.loadOpenSession('acme', KEY)).toBeUndefined();

    await create({ id: 'second' });
    expect(await store.loadOpenSession('acme', KEY)).toMatchObject({ id: 'second', version: 1 });
  });

  it('lets one of two concurrent creators of a conversation win', async () => {
    const results = await Promise.allSettled([create({ id: 'one' }), create({ id: 'two' })]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((result) => result.status === 'rejected')!.reason).toBeInstanceOf(StaleSessionError);
    const winner = results.find((result) => result.status === 'fulfilled')!.value;
    expect(await store.loadOpenSession('acme', KEY)).toMatchObject({ id: winner.id });
  });

  it('writes concurrent transitions of different sessions together, each winning or going stale on its own', async () => {
    const keys = ['100001-31600000011', '100001-31600000012', '100001-31600000013', '100001-31600000014'];
    const customer = (key: string) => key.split('-')[1]!;
    const created = await Promise.all(
      keys.map((sessionKey, i) =>
        create({ id: `batched-${i}`, sessionKey, customerWaId: customer(sessionKey) }),
      ),
    );
    const [applied, fresh] = await recordedIds(
      inbound({ sessionKey: keys[3]!, customerWaId: customer(keys[3]!) }),
      inbound({ sessionKey: keys[3]!, customerWaId: customer(keys[3]!) }),
    );
    await update(created[3]!, { appliedInboundIds: [applied!] });
    const reply = {
      author: 'ai' as const,
      type: 'text' as const,
      body: 'hi',
      payload: { text: { body: 'hi' } },
    };

    // The first write starts a batch alone; the three queued behind it are written together.
    const results = await Promise.allSettled([
      update(created[0]!, { state: 'ai_responding' }),
      update(created[1]!, { state: 'ai_responding', outbound: [reply] }),
      update(created[2]!, { state: 'ai_responding', expectedVersion: 7 }),
      update(
        { ...created[3]!, version: 2 },
        { state: 'ai_responding', appliedInboundIds: [fresh!, applied!] },
      ),
    ]);

    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
    ]);
    for (const result of results.slice(2)) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StaleSessionError);
    }
    expect(await store.loadOpenSession('acme', keys[1]!)).toMatchObject({
      version: 2,
      state: 'ai_responding',
    });
    expect(await store.loadOpenSession('acme', keys[2]!)).toMatchObject({ version: 1, state: 'active' });
    // Nothing of a stale write persists: its fresh inbound row is still pending.
    expect((await store.listPendingInbound('acme', keys[3]!)).map((row) => row.id)).toEqual([fresh]);
    expect(await outboxCount()).toBe(1);
  });

  it('dedupes inbound on (workspace, wamid): across calls, inside a batch, not across workspaces', async () => {
    const a = inbound({ wamid: 'wamid.A' });
    const b = inbound({ wamid: 'wamid.B' });
    expect(await store.recordInbound([a, { ...a, body: 'redelivered' }, b])).toEqual({
      inserted: [a, b],
      duplicates: 1,
    });

    const c = inbound({ wamid: 'wamid.C' });
    expect(await store.recordInbound([b, c])).toEqual({ inserted: [c], duplicates: 1 });

    const elsewhere = inbound({ wamid: 'wamid.A', workspaceId: 'globex' });
    expect(await store.recordInbound([elsewhere])).toEqual({ inserted: [elsewhere], duplicates: 0 });
    expect(await store.recordInbound([])).toEqual({ inserted: [], duplicates: 0 });

    const pending = await store.listPendingInbound('acme', KEY);
    expect(pending.map((row) => [row.wamid, row.body])).toEqual([
      ['wamid.A', 'hello'],
      ['wamid.B', 'hello'],
      ['wamid.C', 'hello'],
    ]);
  });

  it('lists pending inbound by Meta timestamp, then arrival, with every field', async () => {
    const late = inbound({ wamid: 'late', sentAt: T0 + 3_000, payload: [{ list: true }] });
    const early1 = inbound({ wamid: 'early-1', sentAt: T0 + 1_000, receivedAt: T0 + 9_000 });
    const details = {
      context: { from: '15550783881', id: 'wamid.replied-to' },
      referral: { source_type: 'ad', headline: 'Chat with us' },
      interactiveReplyId: 'talk_to_human',
      mediaId: 'media-1',
    };
    const early2 = inbound({
      wamid: 'early-2',
      sentAt: T0 + 1_000,
      body: null,
      customerName: null,
      ...details,
    });
    await store.recordInbound([late, early1]);
    await store.recordInbound([early2]);

    const pending = await store.listPendingInbound('acme', KEY);
    expect(pending.map((row) => row.wamid)).toEqual(['early-1', 'early-2', 'late']);
    expect(pending[0]).toEqual({
      id: expect.any(String),
      workspaceId: 'acme',
      sessionKey: KEY,
      phoneNumberId: '100001',
      customerWaId: '31600000001',
      wamid: 'early-1',
      type: 'text',
      body: 'hello',
      customerName: 'Ada',
      payload: { text: { body: 'hello' } },
      sentAt: T0 + 1_000,
      receivedAt: T0 + 9_000,
      context: null,
      referral: null,
      interactiveReplyId: null,
      mediaId: null,
    });
    expect(pending[1]).toMatchObject({ body: null, customerName: null, ...details });
    expect(pending[2]!.payload).toEqual([{ list: true }]);
    expect((await store.listPendingInbound('acme', KEY, 2)).map((row) => row.wamid)).toEqual([
      'early-1',
      'early-2',
    ]);
  });

  it('marks applied rows with the session and takes them off the pending list', async () => {
    const [first, second] = await recordedIds(inbound(), inbound());
    const session = await create({ id: 'applier' }, { appliedInboundIds: [first!], now: T0 + 500 });

    expect((await store.listPendingInbound('acme', KEY)).map((row) => row.id)).toEqual([second]);
    const applied = await db
      .selectFrom('messages')
      .select(['session_id', 'applied_at'])
      .where('id', '=', first!)
      .executeTakeFirstOrThrow();
    expect(applied).toEqual({ session_id: 'applier', applied_at: new Date(T0 + 500) });

    await update(session, { appliedInboundIds: [second!, second!] });
    expect(await store.listPendingInbound('acme', KEY)).toEqual([]);
  });

  it('fails a write whole when another writer already applied one of its rows', async () => {
    const [first, second] = await recordedIds(inbound(), inbound());
    const session = await create({}, { appliedInboundIds: [first!] });

    await expect(
      update(session, {
        state: 'replied',
        appliedInboundIds: [second!, first!],
        outbound: [{ author: 'ai', type: 'text', body: 'twice?', payload: {} }],
      }),
    ).rejects.toThrow(StaleSessionError);

    expect(await store.loadOpenSession('acme', KEY)).toMatchObject({ version: 1, state: 'active' });
    expect((await store.listPendingInbound('acme', KEY)).map((row) => row.id)).toEqual([second]);
    expect(await outboxCount()).toBe(0);
  });

  it('writes each outbound intent as a pending message row plus an outbox row', async () => {
    const session = await create({ id: 'talker' });
    const payload = { type: 'text', text: { body: 'Our hours are 9 to 5.' } };
    await update(session, {
      now: T0 + 4_000,
      outbound: [
        { author: 'ai', type: 'text', body: 'Our hours are 9 to 5.', payload },
        { author: 'system', type: 'template', body: 'handoff', payload: { type: 'template' } },
      ],
    });

    const messages = await db
      .selectFrom('messages')
      .selectAll()
      .where('workspace_id', '=', 'acme')
      .where('direction', '=', 'out')
      .orderBy('id')
      .execute();
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({
      session_id: 'talker',
      session_key: KEY,
      partition: PARTITION,
      author: 'ai',
      wamid: null,
      phone_number_id: '100001',
      customer_wa_id: '31600000001',
      type: 'text',
      body: 'Our hours are 9 to 5.',
      payload,
      status: 'pending',
      sent_at: new Date(T0 + 4_000),
      applied_at: null,
    });
    expect(messages[1]).toMatchObject({ author: 'system', type: 'template', body: 'handoff' });
    expect(typeof messages[0]!.id).toBe('string');

    const outbox = await db.selectFrom('outbox').selectAll().orderBy('id').execute();
    expect(outbox.map((row) => row.message_id)).toEqual(messages.map((message) => message.id));
    expect(outbox[0]).toMatchObject({
      workspace_id: 'acme',
      session_id: 'talker',
      phone_number_id: '100001',
      customer_wa_id: '31600000001',
      payload,
      status: 'pending',
      attempts: 0,
      next_attempt_at: new Date(T0 + 4_000),
      sent_at: null,
    });
  });

  it('lists due sessions of the owned partitions only, open ones, oldest deadline first', async () => {
    const due = (
      sessionKey: string,
      partition: number,
      nextDeadlineAt: number | null,
      closedAt: number | null = null,
    ) => create({ sessionKey, partition, nextDeadlineAt, closedAt });
    await due('1-late', 1, T0 + 500);
    await due('1-early', 1, T0 - 500);
    await due('2-now', 2, T0);
    await due('3-other-partition', 3, T0 - 1_000);
    await due('1-future', 1, T0 + 1_001);
    await due('1-no-deadline', 1, null);
    await due('1-closed', 1, T0 - 2_000, T0 - 1_500);
    await create({ workspaceId: 'globex', sessionKey: '2-globex', partition: 2, nextDeadlineAt: T0 + 900 });

    const keys = async (partitions: number[], limit = 10) =>
      (await store.listDueSessions(partitions, T0 + 1_000, limit)).map((address) => address.sessionKey);
    expect(await keys([1, 2])).toEqual(['1-early', '2-now', '1-late', '2-globex']);
    expect(await keys([1, 2], 2)).toEqual(['1-early', '2-now']);
    expect(await keys([])).toEqual([]);
    expect(await store.listDueSessions([2], T0 + 1_000, 10)).toEqual([
      { workspaceId: 'acme', sessionKey: '2-now', partition: 2 },
      { workspaceId: 'globex', sessionKey: '2-globex', partition: 2 },
    ]);
  });

  it('lists open sessions in the given states of the owned partitions, every workspace, least recently written first', async () => {
    const inState = (
      sessionKey: string,
      partition: number,
      state: string,
      now: number,
      workspaceId = 'acme',
    ) => create({ sessionKey, partition, state, workspaceId }, { now });
    await inState('1-composing-late', 1, 'ai_responding', T0 + 300);
    await inState('2-composing-early', 2, 'ai_responding', T0 + 100);
    await inState('2-globex-composing', 2, 'ai_responding', T0 + 200, 'globex');
    await inState('1-waiting', 1, 'active', T0);
    await inState('1-handed-off', 1, 'fallback', T0 + 50);
    await inState('3-other-partition', 3, 'ai_responding', T0);
    await create(
      { sessionKey: '1-closed', partition: 1, state: 'ai_responding', closedAt: T0 },
      { now: T0 - 1_000 },
    );

    expect(await store.listSessionsInStates([1, 2], ['ai_responding'], 10)).toEqual([
      { workspaceId: 'acme', sessionKey: '2-composing-early', partition: 2 },
      { workspaceId: 'globex', sessionKey: '2-globex-composing', partition: 2 },
      { workspaceId: 'acme', sessionKey: '1-composing-late', partition: 1 },
    ]);
    const keys = async (partitions: number[], states: string[], limit = 10) =>
      (await store.listSessionsInStates(partitions, states, limit)).map((address) => address.sessionKey);
    expect(await keys([1], ['ai_responding', 'fallback'])).toEqual(['1-handed-off', '1-composing-late']);
    expect(await keys([1, 2], ['ai_responding'], 1)).toEqual(['2-composing-early']);
    expect(await keys([], ['ai_responding'])).toEqual([]);
    expect(await keys([1, 2], [])).toEqual([]);
  });

  it('lists stalled inbound conversations of the owned partitions, longest waiting first', async () => {
    const at = (sessionKey: string, partition: number, receivedAt: number, workspaceId = 'acme') =>
      inbound({ sessionKey, partition, receivedAt, workspaceId });
    await store.recordInbound([
      at('1-b', 1, T0 - 100),
      at('1-a', 1, T0 - 300),
      at('1-a', 1, T0 - 50),
      at('2-c', 2, T0 - 200, 'globex'),
      at('3-other-partition', 3, T0 - 1_000),
      at('1-recent', 1, T0),
    ]);
    const [appliedRow] = await recordedIds(at('1-applied', 1, T0 - 5_000));
    await create({ sessionKey: '1-applied', partition: 1 }, { appliedInboundIds: [appliedRow!] });

    expect(await store.listStalledInbound([1, 2], T0, 10)).toEqual([
      { workspaceId: 'acme', sessionKey: '1-a', partition: 1 },
      { workspaceId: 'globex', sessionKey: '2-c', partition: 2 },
      { workspaceId: 'acme', sessionKey: '1-b', partition: 1 },
    ]);
    expect(await store.listStalledInbound([1, 2], T0, 1)).toHaveLength(1);
    expect(await store.listStalledInbound([], T0, 10)).toEqual([]);
  });

  it('keeps workspaces apart for the same session key', async () => {
    await create({ id: 'globex-session', workspaceId: 'globex', state: 'human' });
    await store.recordInbound([inbound({ workspaceId: 'globex' })]);
    expect(await store.loadOpenSession('acme', KEY)).toBeUndefined();
    expect(await store.listPendingInbound('acme', KEY)).toEqual([]);

    const acme = await create({ id: 'acme-session' });
    expect(await store.loadOpenSession('acme', KEY)).toMatchObject({ id: 'acme-session', state: 'active' });
    expect(await store.loadOpenSession('globex', KEY)).toMatchObject({
      id: 'globex-session',
      state: 'human',
    });

    // A write cannot reach another workspace's session or inbound rows, even knowing their ids.
    const [globexRow] = (await store.listPendingInbound('globex', KEY)).map((row) => row.id);
    await expect(update(acme, { appliedInboundIds: [globexRow!] })).rejects.toThrow(StaleSessionError);
    await expect(update({ ...acme, id: 'globex-session' }, { state: 'hijacked' })).rejects.toThrow(
      StaleSessionError,
    );
    expect(await store.loadOpenSession('globex', KEY)).toMatchObject({ state: 'human', version: 1 });
    expect(await store.listPendingInbound('globex', KEY)).toHaveLength(1);
  });

  it('migrates idempotently', async () => {
    expect(await migrateToLatest(db)).toEqual([]);
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    expect(applied.rows.map((row) => row.name)).toEqual(Object.keys(migrations));
  });
});
