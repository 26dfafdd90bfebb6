import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryEntry, SessionContext } from '../../src/machines/session.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  postWebhook,
  signed,
  signedFixture,
  statusWebhook,
  textMessagesWebhook,
  WEBHOOK_ENV,
} from '../support/meta-webhook.ts';
import { type SessionGate, sessionGate } from '../support/session-gate.ts';
import { testConfig } from '../support/test-config.ts';
import { metaFixture, valueAt } from '../whatsapp/meta-fixtures.ts';

/**
 * What the webhook promised survives the engine: a redelivery to a restarted engine has no second effect, and
 * a failure Meta reports reaches its session's history even when the session cannot be reached at the time,
 * through a restart if need be. Each engine here is a fresh process's worth of state on the same database.
 */
const SHEENA = '16505551234';
// Sandbox ticks would move the replies to delivered and read as the clock moves: kept out of these tests.
const ENV = { ...WEBHOOK_ENV, BOTRELIC_SANDBOX_RECEIPT_DELAY: '0s' };

let database: TestDatabase | undefined;
const gateways: TestGateway[] = [];

async function startOn(shared: TestDatabase, gate?: SessionGate): Promise<TestGateway> {
  const gateway = await startTestGateway({
    config: testConfig(),
    env: ENV,
    database: shared,
    ...(gate ? { transport: (transport) => gate.wrap(transport) } : {}),
  });
  gateways.push(gateway);
  return gateway;
}

afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.close();
  await database?.close();
  database = undefined;
});

async function history(gateway: TestGateway, waId: string): Promise<HistoryEntry[]> {
  const row = await gateway.database.db
    .selectFrom('sessions')
    .select('snapshot')
    .where('customer_wa_id', '=', waId)
    .where('closed_at', 'is', null)
    .executeTakeFirstOrThrow();
  return (row.snapshot as { context: SessionContext }).context.history;
}

/** A customer's question answered by the AI and delivered to the sandbox: the reply's wamid. */
async function sentReply(gateway: TestGateway, waId: string): Promise<string> {
  const question = textMessagesWebhook([
    { from: waId, wamid: `wamid.ask-${waId}`, text: 'Where is my parcel?', sentAt: gateway.clock.now() },
  ]);
  expect((await postWebhook(gateway.baseUrl, signed(question))).status).toBe(200);
  await gateway.settle();
  await gateway.agent.reply('It is on its way.');
  await gateway.settle();
  const row = await gateway.database.db
    .selectFrom('messages')
    .select(['wamid', 'status'])
    .where('customer_wa_id', '=', waId)
    .where('direction', '=', 'out')
    .executeTakeFirstOrThrow();
  expect(row.status).toBe('sent');
  return row.wamid!;
}

const failedStatus = (wamid: string) => signed(statusWebhook('status-failed.json', { wamid }));

const notices = (gateway: TestGateway) =>
  gateway.database.db.selectFrom('failure_notices').select(['message_id', 'attempts']).execute();

const failures = async (gateway: TestGateway, waId: string) =>
  (await history(gateway, waId)).filter((entry) => entry.kind === 'delivery_failed');

describe('a restarted engine', () => {
  it('acknowledges a webhook it already took before the restart, and gives it no second effect', async () => {
    database = await createTestDatabase();
    const webhook = signedFixture('text-message.json');
    const first = await startOn(database);
    expect((await postWebhook(first.baseUrl, webhook)).status).toBe(200);
    await first.settle();
    expect(first.agent.calls).toHaveLength(1);
    await first.agent.reply('We open at 9.');
    await first.settle();
    await first.close();

    const second = await startOn(database);
    expect((await postWebhook(second.baseUrl, webhook)).status).toBe(200);
    await second.settle();
    await second.advance(10_000);
    const wamid = valueAt(metaFixture('text-message.json'), [
      'entry',
      0,
      'changes',
      0,
      'value',
      'messages',
      0,
      'id',
    ]);
    const rows = await second.database.db
      .selectFrom('messages')
      .select('wamid')
      .where('direction', '=', 'in')
      .execute();
    expect(rows).toEqual([{ wamid }]);
    expect(second.agent.calls).toHaveLength(0);
    expect(await second.metric('botrelic_inbound_duplicates_total')).toBe(1);
    expect(await second.metric('botrelic_inbound_messages_recorded_total')).toBe(0);
    const entries = await history(second, SHEENA);
    expect(entries.filter((entry) => entry.kind === 'customer')).toHaveLength(1);
    expect(entries.filter((entry) => entry.kind === 'ai')).toHaveLength(1);
  });
});

describe('a failure Meta reports while its session cannot be reached', () => {
  it('is acknowledged without waiting for the session, and recorded once the session answers', async () => {
    database = await createTestDatabase();
    const gate = sessionGate();
    const gateway = await startOn(database, gate);
    const waId = '4420794960001';
    const wamid = await sentReply(gateway, waId);

    // The session's mailbox is stuck: telling it would wait (5 s, then give up, before).
    gate.hold();
    const started = performance.now();
    const response = await postWebhook(gateway.baseUrl, failedStatus(wamid));
    expect(response.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(2_000);
    // Already durable when Meta got its 200: the message row, and the notice for the session.
    const [message] = await gateway.database.db
      .selectFrom('messages')
      .select(['id', 'status', 'error_code'])
      .where('wamid', '=', wamid)
      .execute();
    expect(message).toMatchObject({ status: 'failed', error_code: 131047 });
    expect((await notices(gateway)).map((notice) => notice.message_id)).toEqual([message!.id]);
    expect(await failures(gateway, waId)).toEqual([]);

    gate.open();
    await gateway.settle();
    expect(await failures(gateway, waId)).toEqual([
      expect.objectContaining({ wamid, code: 131047, title: 'Re-engagement message' }),
    ]);
    expect(await notices(gateway)).toEqual([]);
    // Meta redelivers the status: nothing changes, nothing more is told.
    expect((await postWebhook(gateway.baseUrl, failedStatus(wamid))).status).toBe(200);
    await gateway.settle();
    expect(await failures(gateway, waId)).toHaveLength(1);
    expect(await notices(gateway)).toEqual([]);
  });

  it('reaches the session after a restart, and only once even when told twice', async () => {
    database = await createTestDatabase();
    const gate = sessionGate();
    const first = await startOn(database, gate);
    const waId = '4420794960002';
    const wamid = await sentReply(first, waId);

    // No node hosts the session now: the failure is acknowledged, the notice waits for a retry.
    gate.refuse();
    expect((await postWebhook(first.baseUrl, failedStatus(wamid))).status).toBe(200);
    await first.settle();
    expect(gate.commands).toBeGreaterThan(0);
    expect(await notices(first)).toEqual([expect.objectContaining({ attempts: 1 })]);
    await first.close();

    const second = await startOn(database);
    // Its notifier looked at startup, before the retry was due; its next looks come as time passes.
    await second.settle();
    await second.advance(10 * 60_000);
    expect(await failures(second, waId)).toEqual([expect.objectContaining({ wamid, code: 131047 })]);
    expect(await notices(second)).toEqual([]);

    // Told again, as after an answer lost on the way back: the session keeps one entry for the message.
    const [message] = await second.database.db
      .selectFrom('messages')
      .select('id')
      .where('wamid', '=', wamid)
      .execute();
    await second.database.db
      .insertInto('failure_notices')
      .values({
        message_id: message!.id,
        workspace_id: 'acme',
        next_attempt_at: new Date(second.clock.now()),
        created_at: new Date(second.clock.now()),
      })
      .execute();
    second.engine.failures.wake();
    await second.settle();
    expect(await notices(second)).toEqual([]);
    expect(await failures(second, waId)).toHaveLength(1);
  });
});
