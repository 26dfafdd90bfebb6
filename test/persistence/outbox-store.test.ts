import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOutboxStore, type OutboxStore } from '../../src/persistence/outbox-store.ts';
import type { Database } from '../../src/persistence/schema.ts';
import { bothDatabases, freshWorkspaces, type TestDatabase } from '../support/database.ts';
import { seedConversation } from '../support/outbox-seed.ts';

const T0 = Date.parse('2026-02-01T10:00:00Z');
const LEASE = 30_000;
const NUMBER = '100001';

describe.each(await bothDatabases())('outbox store on $adapter', ({ adapter, openDatabase, skip }) => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  let store: OutboxStore;

  beforeAll(async () => {
    if (skip) return;
    database = await openDatabase();
    db = database.db;
    store = createOutboxStore(db);
  });

  afterAll(async () => {
    await database?.close();
  });

  beforeEach(async ({ skip: skipTest }) => {
    if (skip) skipTest('Postgres is not running');
    await freshWorkspaces(db, ['outbox', 'messages', 'sessions']);
  });

  const seed = (
    waId: string,
    messages: string[],
    customerWroteAt: number | null = T0 - 1_000,
    closed = false,
  ) =>
    seedConversation(db, {
      workspaceId: 'acme',
      phoneNumberId: NUMBER,
      waId,
      messages,
      customerWroteAt,
      now: T0,
      closed,
    });

  const claim = (now = T0, limit = 100) => store.claimDue({ now, leaseUntil: now + LEASE, limit });

  const outboxRow = (id: string) =>
    db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it("leases only each conversation's oldest pending row, oldest first, with what delivery needs", async () => {
    const first = await seed('3161', ['one', 'two']);
    const second = await seed('3162', ['alpha']);

    const claimed = await claim();
    expect(claimed.map((row) => row.messageId)).toEqual([first.messageIds[0], second.messageIds[0]]);
    expect(claimed[0]).toEqual({
      id: expect.any(String),
      messageId: first.messageIds[0],
      workspaceId: 'acme',
      sessionId: first.sessionId,
      sessionKey: first.sessionKey,
      partition: first.partition,
      phoneNumberId: NUMBER,
      customerWaId: '3161',
      type: 'text',
      payload: { type: 'text', text: { body: 'one' } },
      attempt: 1,
      leasedUntil: T0 + LEASE,
      createdAt: T0,
      lastCustomerMessageAt: T0 - 1_000,
    });
    expect(await outboxRow(claimed[0]!.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      next_attempt_at: new Date(T0 + LEASE),
    });
    // Leased heads are not due again, and "two" waits behind its leased head.
    expect(await claim(T0 + LEASE - 1)).toEqual([]);

    expect(await store.markSent(claimed[0]!, 'wamid.first', T0 + 10)).toBe(true);
    expect((await claim(T0 + 20)).map((row) => row.messageId)).toEqual([first.messageIds[1]]);
  });

  it('hands a lapsed lease to the next claim, as the next attempt', async () => {
    await seed('3161', ['one']);
    const [first] = await claim();
    const [again] = await claim(T0 + LEASE);
    expect(again).toMatchObject({ id: first!.id, attempt: 2, leasedUntil: T0 + 2 * LEASE });
    // The first holder's outcome is refused: the row is no longer its to write.
    expect(await store.markSent(first!, 'wamid.stale', T0 + LEASE + 1)).toBe(false);
    expect(await store.markFailed(first!, { code: 1, title: 'x' }, T0 + LEASE + 1)).toBe(false);
    expect(await store.reschedule(first!, T0, true)).toBe(false);
    expect(await outboxRow(first!.id)).toMatchObject({ status: 'pending', attempts: 2 });
    expect(await store.markSent(again!, 'wamid.fresh', T0 + LEASE + 2)).toBe(true);
  });

  it('marks message and row sent together, keeping the wamid', async () => {
    const { messageIds } = await seed('3161', ['one']);
    const [row] = await claim();
    await store.markSent(row!, 'wamid.HBgL123', T0 + 50);
    expect(await outboxRow(row!.id)).toMatchObject({ status: 'sent', sent_at: new Date(T0 + 50) });
    const message = await db
      .selectFrom('messages')
      .select(['status', 'wamid', 'error_code'])
      .where('id', '=', messageIds[0]!)
      .executeTakeFirstOrThrow();
    expect(message).toEqual({ status: 'sent', wamid: 'wamid.HBgL123', error_code: null });
  });

  it("fails message and row together, with Meta's code and title; the next message becomes due", async () => {
    const { messageIds } = await seed('3161', ['one', 'two']);
    const [row] = await claim();
    await store.markFailed(row!, { code: 131026, title: 'Message Undeliverable' }, T0 + 50);
    expect(await outboxRow(row!.id)).toMatchObject({ status: 'failed', sent_at: null });
    const message = await db
      .selectFrom('messages')
      .select(['status', 'wamid', 'error_code', 'error_title'])
      .where('id', '=', messageIds[0]!)
      .executeTakeFirstOrThrow();
    expect(message).toEqual({
      status: 'failed',
      wamid: null,
      error_code: 131026,
      error_title: 'Message Undeliverable',
    });
    expect((await claim(T0 + 60)).map((next) => next.messageId)).toEqual([messageIds[1]]);
  });

  it('reschedules a retry as an attempt, and a paced row without one', async () => {
    await seed('3161', ['one']);
    const [row] = await claim();
    expect(await store.reschedule(row!, T0 + 5_000, true)).toBe(true);
    expect(await claim(T0 + 4_999)).toEqual([]);
    const [retry] = await claim(T0 + 5_000);
    expect(retry!.attempt).toBe(2);
    expect(await store.reschedule(retry!, T0 + 6_000, false)).toBe(true);
    const [paced] = await claim(T0 + 6_000);
    expect(paced!.attempt).toBe(2);
  });

  it("reads the customer's latest message to the number over every session, and none when they never wrote", async () => {
    await seed('3161', ['earlier session'], T0 - 90_000, true);
    await store.markSent((await claim())[0]!, 'wamid.earliest', T0);
    await seed('3161', ['earlier session'], T0 - 50_000, true);
    await store.markSent((await claim())[0]!, 'wamid.earlier', T0);
    // The open session has no inbound row of its own: the window still counts from the closed one's.
    const current = await seed('3161', ['this session'], null);
    await seed('3163', ['outreach'], null);
    const claimed = await claim();
    expect(claimed.map((row) => [row.sessionId, row.lastCustomerMessageAt])).toEqual([
      [current.sessionId, T0 - 50_000],
      [expect.any(String), null],
    ]);
  });

  it('claims at most the limit, keeping the oldest', async () => {
    for (let i = 0; i < 5; i++) await seed(`317${i}`, [`m${i}`]);
    expect((await claim(T0, 3)).map((row) => row.customerWaId)).toEqual(['3170', '3171', '3172']);
    expect((await claim(T0, 3)).map((row) => row.customerWaId)).toEqual(['3173', '3174']);
  });

  it.skipIf(adapter === 'pglite')(
    'skips rows another sender is claiming instead of waiting for them',
    async () => {
      const first = await seed('3161', ['one']);
      const second = await seed('3162', ['two']);
      const locked = await db
        .selectFrom('outbox')
        .select('id')
        .where('message_id', '=', first.messageIds[0]!)
        .executeTakeFirstOrThrow();
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let lockTaken!: () => void;
      const taken = new Promise<void>((resolve) => {
        lockTaken = resolve;
      });
      const holder = db.transaction().execute(async (trx) => {
        await trx.selectFrom('outbox').select('id').where('id', '=', locked.id).forUpdate().execute();
        lockTaken();
        await held;
      });
      await taken;
      const started = Date.now();
      const claimed = await claim();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(claimed.map((row) => row.messageId)).toEqual([second.messageIds[0]]);
      release();
      await holder;
    },
  );

  it.skipIf(adapter === 'pglite')(
    'lets concurrent senders share the outbox: each row once, each conversation in order, one at a time',
    async () => {
      const customers = Array.from({ length: 8 }, (_, i) => `318${i}`);
      for (const waId of customers) await seed(waId, ['1', '2', '3', '4', '5']);
      const inFlight = new Set<string>();
      const sentTo = new Map<string, string[]>();
      const claims: string[] = [];
      const sender = async () => {
        for (let idle = 0; idle < 5; ) {
          const rows = await claim(T0, 3);
          if (rows.length === 0) {
            idle++;
            await new Promise((resolve) => setTimeout(resolve, 5));
            continue;
          }
          idle = 0;
          await Promise.all(
            rows.map(async (row) => {
              expect(inFlight.has(row.customerWaId), 'two messages to one customer at once').toBe(false);
              inFlight.add(row.customerWaId);
              claims.push(row.id);
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
              sentTo.set(row.customerWaId, [
                ...(sentTo.get(row.customerWaId) ?? []),
                (row.payload as { text: { body: string } }).text.body,
              ]);
              inFlight.delete(row.customerWaId);
              expect(await store.markSent(row, `wamid.${row.id}`, T0)).toBe(true);
            }),
          );
        }
      };
      await Promise.all([sender(), sender(), sender(), sender()]);
      expect(claims).toHaveLength(40);
      expect(new Set(claims).size).toBe(40);
      for (const waId of customers) expect(sentTo.get(waId)).toEqual(['1', '2', '3', '4', '5']);
    },
  );
});
