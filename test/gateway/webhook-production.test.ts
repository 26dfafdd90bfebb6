import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import type { HistoryEntry, SessionContext } from '../../src/machines/session.ts';
import { type FakeGraphApi, startFakeGraphApi } from '../support/fake-graph-api.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  postWebhook,
  signed,
  statusWebhook,
  textMessagesWebhook,
  WEBHOOK_ENV,
} from '../support/meta-webhook.ts';
import { ACME_NUMBER } from '../support/test-config.ts';

/**
 * A production number end to end over real HTTP: Meta's signed webhook in, the session's reply out to the
 * local fake Graph API with the number's access token, Meta's statuses about the wamid the fake returned back
 * in through the webhook. Nothing of our own path is stubbed; only the AI is scripted.
 */
const PRODUCTION = '109999999999991';
const TOKEN = 'EAAGproductionTokenOfTheAcmeNumber';

function productionConfig() {
  return botrelicConfigSchema.parse({
    workspaces: [
      {
        id: 'acme',
        name: 'Acme Store',
        phoneNumbers: [{ phoneNumberId: PRODUCTION, mode: 'production', accessToken: TOKEN }],
        humanTeams: [
          { id: 'support', agents: [{ id: 'alice', name: 'Alice', token: 'alice-token-0123456789' }] },
        ],
      },
    ],
  });
}

let fake: FakeGraphApi;
let gateway: TestGateway;
let customer = 4_478_000_000;

async function start(env: Record<string, string> = {}): Promise<void> {
  gateway = await startTestGateway({
    config: productionConfig(),
    env: { ...WEBHOOK_ENV, WHATSAPP_GRAPH_URL: fake.url, ...env },
  });
}

beforeEach(async () => {
  fake = await startFakeGraphApi({ accessToken: TOKEN });
});

afterEach(async () => {
  await gateway?.close();
  await fake.close();
});

/** A status webhook as Meta sends it for the production number. */
function statusFor(wamid: string, status: 'sent' | 'delivered' | 'read' | 'failed') {
  const fixture = status === 'failed' ? 'status-failed.json' : 'status-delivered.json';
  const body = JSON.stringify(statusWebhook(fixture, { wamid, status })).replaceAll(ACME_NUMBER, PRODUCTION);
  return signed(Buffer.from(body));
}

/** The customer writes to the production number through Meta's webhook. */
async function customerWrites(waId: string, text: string): Promise<void> {
  const webhook = textMessagesWebhook(
    [{ from: waId, wamid: `wamid.in-${waId}-${text.length}`, text, sentAt: gateway.clock.now() }],
    PRODUCTION,
  );
  const response = await postWebhook(gateway.baseUrl, signed(webhook));
  expect(response.status).toBe(200);
  await gateway.settle();
}

async function reply(waId: string) {
  return gateway.database.db
    .selectFrom('messages')
    .select(['id', 'wamid', 'status', 'error_code', 'error_title', 'session_id'])
    .where('workspace_id', '=', 'acme')
    .where('customer_wa_id', '=', waId)
    .where('direction', '=', 'out')
    .executeTakeFirstOrThrow();
}

async function history(waId: string): Promise<HistoryEntry[]> {
  const row = await gateway.database.db
    .selectFrom('sessions')
    .select('snapshot')
    .where('customer_wa_id', '=', waId)
    .executeTakeFirstOrThrow();
  return (row.snapshot as { context: SessionContext }).context.history;
}

describe('a production number, end to end', () => {
  it("answers a signed webhook through the Graph API with the number's token, and Meta's statuses update the reply", async () => {
    await start();
    const waId = String(++customer);
    await customerWrites(waId, 'Do you deliver on Sundays?');
    await gateway.agent.reply('Yes, from 10 to 4.');
    await gateway.settle();

    const [sent] = fake.messagesTo(waId);
    expect(sent).toMatchObject({
      phoneNumberId: PRODUCTION,
      authorization: `Bearer ${TOKEN}`,
      responseStatus: 200,
      body: { messaging_product: 'whatsapp', to: waId, type: 'text', text: { body: 'Yes, from 10 to 4.' } },
    });
    // Every call to Meta (the typing indicator too) carries the number's token.
    expect(new Set(fake.requests.map((request) => request.authorization))).toEqual(
      new Set([`Bearer ${TOKEN}`]),
    );
    expect(await reply(waId)).toMatchObject({ wamid: sent!.wamid, status: 'sent' });

    for (const status of ['delivered', 'read'] as const) {
      expect((await postWebhook(gateway.baseUrl, statusFor(sent!.wamid!, status))).status).toBe(200);
      expect(await reply(waId)).toMatchObject({ wamid: sent!.wamid, status });
    }
    expect(await gateway.metric('botrelic_webhook_statuses_total{result="applied"}')).toBe(2);
  });

  it('holds a status Meta sends before the sender stored the wamid, and applies it once stored', async () => {
    await start();
    const waId = String(++customer);
    await customerWrites(waId, 'Is my parcel lost?');
    // The typing indicator went first; Meta's answer to the reply itself is held back.
    await fake.waitForRequests(1);
    fake.delayNext(500);
    const replied = gateway.agent.reply('Let me check.');
    await fake.waitForRequests(2);
    const wamid = fake.requests[1]!.wamid!;

    // Meta already reports the message failed; its row has no wamid yet.
    const early = await postWebhook(gateway.baseUrl, statusFor(wamid, 'failed'));
    expect(early.status).toBe(200);
    expect(await reply(waId)).toMatchObject({ wamid: null, status: 'pending' });
    expect(await gateway.metric('botrelic_webhook_statuses_total{result="held"}')).toBe(1);

    await replied;
    await gateway.settle();
    expect(await reply(waId)).toMatchObject({
      wamid,
      status: 'failed',
      error_code: 131047,
      error_title: 'Re-engagement message',
    });
    const held = await gateway.database.db.selectFrom('unmatched_statuses').selectAll().execute();
    expect(held).toEqual([]);
    // The failure reached the session's history through its notice, once.
    expect((await history(waId)).filter((entry) => entry.kind === 'delivery_failed')).toEqual([
      expect.objectContaining({ wamid, code: 131047 }),
    ]);
    // Later statuses never move it back.
    expect((await postWebhook(gateway.baseUrl, statusFor(wamid, 'delivered'))).status).toBe(200);
    expect(await reply(waId)).toMatchObject({ status: 'failed' });
  });

  it('paces sends to BOTRELIC_PHONE_NUMBER_RATE from the environment', async () => {
    await start({ BOTRELIC_PHONE_NUMBER_RATE: '4' });
    const customers = [++customer, ++customer, ++customer].map(String);
    for (const waId of customers) await customerWrites(waId, 'Hello?');
    for (const _ of customers) await gateway.agent.reply('Hello!');
    await gateway.settle();
    const sent = () => customers.flatMap((waId) => fake.messagesTo(waId)).length;
    // 4 per second: one send each 250 ms of the engine's clock (the default, 80/s, would send all three now).
    await gateway.advance(100);
    expect(sent()).toBe(1);
    await gateway.advance(250);
    expect(sent()).toBe(2);
    await gateway.advance(250);
    expect(sent()).toBe(3);
  });
});
