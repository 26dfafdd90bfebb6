import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFailureNoticeStore, type FailureNoticeStore } from '../../src/persistence/failure-notices.ts';
import type { Database } from '../../src/persistence/schema.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { seedConversation } from '../support/outbox-seed.ts';
import { ACME_NUMBER, GLOBEX_NUMBER, testConfig } from '../support/test-config.ts';

/** The notice store on its own: every statement it runs for a notice names the notice's workspace. */
const T0 = Date.UTC(2026, 0, 1);
const LEASE = T0 + 60_000;

let database: TestDatabase;
let db: Kysely<Database>;
let store: FailureNoticeStore;
let customer = 4_472_000_000;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await syncWorkspaces(db, testConfig());
  store = createFailureNoticeStore(db);
});

afterAll(async () => {
  await database?.close();
});

beforeEach(async () => {
  await sql`truncate failure_notices, outbox, messages, sessions restart identity cascade`.execute(db);
});

/** A failed reply of the workspace with its notice, as the outbox or the status webhook leaves them. */
async function failedReply(workspaceId: 'acme' | 'globex', noticeWorkspaceId = workspaceId) {
  const { sessionId, messageIds } = await seedConversation(db, {
    workspaceId,
    phoneNumberId: workspaceId === 'acme' ? ACME_NUMBER : GLOBEX_NUMBER,
    waId: String(++customer),
    messages: ['hello'],
    customerWroteAt: T0,
    now: T0,
  });
  const messageId = messageIds[0]!;
  await db
    .updateTable('messages')
    .set({ status: 'failed', error_code: 131026, error_title: 'Message Undeliverable' })
    .where('id', '=', messageId)
    .execute();
  await db
    .insertInto('failure_notices')
    .values({
      message_id: messageId,
      workspace_id: noticeWorkspaceId,
      next_attempt_at: new Date(T0),
      created_at: new Date(T0),
    })
    .execute();
  return { sessionId, messageId };
}

const notices = () =>
  db
    .selectFrom('failure_notices')
    .select(['message_id', 'workspace_id', 'next_attempt_at'])
    .orderBy('message_id')
    .execute();

describe('failure notices across workspaces', () => {
  it('claims each notice with its own workspace and session', async () => {
    const acme = await failedReply('acme');
    const globex = await failedReply('globex');
    const claimed = await store.claimDue({ now: T0, leaseUntil: LEASE, limit: 10 });
    expect(
      claimed.map(({ messageId, workspaceId, sessionId }) => ({ messageId, workspaceId, sessionId })),
    ).toEqual([
      { messageId: acme.messageId, workspaceId: 'acme', sessionId: acme.sessionId },
      { messageId: globex.messageId, workspaceId: 'globex', sessionId: globex.sessionId },
    ]);
  });

  it('never reads a message through a notice that names another workspace', async () => {
    // No write of the engine leaves such a row; the claim's join must not trust one either.
    await failedReply('acme', 'globex');
    expect(await store.claimDue({ now: T0, leaseUntil: LEASE, limit: 10 })).toEqual([]);
  });

  it('removes or reschedules a notice only in its own workspace', async () => {
    await failedReply('acme');
    const [notice] = await store.claimDue({ now: T0, leaseUntil: LEASE, limit: 10 });
    const forged = { ...notice!, workspaceId: 'globex' };
    const before = await notices();

    expect(await store.remove(forged)).toBe(false);
    expect(await store.retryAt(forged, T0 + 5_000)).toBe(false);
    expect(await notices()).toEqual(before);

    expect(await store.retryAt(notice!, T0 + 5_000)).toBe(true);
    expect((await notices())[0]!.next_attempt_at.getTime()).toBe(T0 + 5_000);
    const [again] = await store.claimDue({ now: T0 + 5_000, leaseUntil: LEASE + 5_000, limit: 10 });
    expect(await store.remove({ ...again!, workspaceId: 'globex' })).toBe(false);
    expect(await store.remove(again!)).toBe(true);
    expect(await notices()).toEqual([]);
  });
});
