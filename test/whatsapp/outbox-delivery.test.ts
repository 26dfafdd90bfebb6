import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendTemplate } from '../../src/actors/send-template.ts';
import { type BotrelicConfig, botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import type { SessionContext } from '../../src/machines/session.ts';
import type { SessionAddress } from '../../src/persistence/session-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { type FakeGraphApi, META_ERRORS, startFakeGraphApi } from '../support/fake-graph-api.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';

/**
 * The whole engine, customer message to Graph API request: the real actor host, session machine, store and
 * sender, the fake Graph API over HTTP. The manual clock is never moved unless a test says so, so a delivery
 * here is the sender woken by the commit, not its poll.
 */
const PRODUCTION = '109999999999991';
const SANDBOX = '106540352242922';
const TOKEN = 'EAAGproductionTokenThatIsNeverLogged';
const ALICE = 'alice-token-0123456789';
const HOUR = 60 * 60 * 1_000;

function deliveryConfig(): BotrelicConfig {
  return botrelicConfigSchema.parse({
    workspaces: [
      {
        id: 'acme',
        name: 'Acme Store',
        phoneNumbers: [
          { phoneNumberId: PRODUCTION, mode: 'production', accessToken: TOKEN },
          { phoneNumberId: SANDBOX, mode: 'sandbox' },
        ],
        fallback: { keywords: ['human'], message: 'Let me connect you with our team.' },
        humanTeams: [{ id: 'support', agents: [{ id: 'alice', name: 'Alice', token: ALICE }] }],
        sessions: {
          inactivityTimeout: '3d',
          handoffTimeout: '25h',
          humanInactivityTimeout: '3d',
          handoffTimeoutMessage: 'Sorry for the wait.',
        },
      },
    ],
  });
}

let database: TestDatabase;
let transport: TestTransport;
let fake: FakeGraphApi;
let harness: TestEngine;
let customer = 4_479_000_000;

beforeAll(async () => {
  database = await createTestDatabase();
  transport = await connectTestTransport();
});

afterAll(async () => {
  await transport?.close();
  await database?.close();
});

beforeEach(async () => {
  fake = await startFakeGraphApi({ accessToken: TOKEN });
  harness = await startTestEngine({
    database,
    transport: transport.transport,
    config: deliveryConfig(),
    env: { WHATSAPP_APP_SECRET: 'app-secret-for-tests', WHATSAPP_GRAPH_URL: fake.url },
  });
});

afterEach(async () => {
  await harness.stop();
  await fake.close();
});

async function outbound(address: SessionAddress) {
  return database.db
    .selectFrom('messages')
    .select(['id', 'type', 'body', 'status', 'wamid', 'error_code', 'error_title', 'author'])
    .where('workspace_id', '=', 'acme')
    .where('session_key', '=', address.sessionKey)
    .where('direction', '=', 'out')
    .orderBy('id')
    .execute();
}

async function history(address: SessionAddress) {
  const row = await database.db
    .selectFrom('sessions')
    .select('snapshot')
    .where('workspace_id', '=', 'acme')
    .where('session_key', '=', address.sessionKey)
    .where('closed_at', 'is', null)
    .executeTakeFirstOrThrow();
  return (row.snapshot as { context: SessionContext }).context.history;
}

async function metric(name: string): Promise<number> {
  const text = await harness.engine.registry.metrics();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

describe('a production number', () => {
  it('shows "typing…" while the AI composes, then delivers its reply to Meta and stores the wamid', async () => {
    const waId = String(++customer);
    const address = await harness.customerSays(
      'acme',
      PRODUCTION,
      waId,
      'Where is my order?',
      `wamid.in-${waId}`,
    );
    await fake.waitForRequests(1);
    expect(fake.requests[0]).toMatchObject({
      phoneNumberId: PRODUCTION,
      authorization: `Bearer ${TOKEN}`,
      body: {
        messaging_product: 'whatsapp',
        status: 'read',
        message_id: `wamid.in-${waId}`,
        typing_indicator: { type: 'text' },
      },
    });

    await harness.agent.reply('It ships tomorrow.');
    await harness.settle();

    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]).toMatchObject({
      phoneNumberId: PRODUCTION,
      authorization: `Bearer ${TOKEN}`,
      body: {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: waId,
        type: 'text',
        text: { body: 'It ships tomorrow.' },
      },
    });
    expect(await outbound(address)).toEqual([
      expect.objectContaining({ author: 'ai', status: 'sent', wamid: fake.requests[1]!.wamid }),
    ]);
    expect(await metric('botrelic_outbox_sent_total{mode="production"}')).toBe(1);
    expect(await metric('botrelic_typing_indicators_total{result="shown"}')).toBe(1);
  });

  it('marks the message read without "typing…" when the answer comes within the reply window', async () => {
    await harness.stop();
    harness = await startTestEngine({
      database,
      transport: transport.transport,
      config: deliveryConfig(),
      env: { WHATSAPP_APP_SECRET: 'app-secret-for-tests', WHATSAPP_GRAPH_URL: fake.url },
      actors: { replyWindowMs: 2_000 },
    });
    const waId = String(++customer);
    const saying = harness.customerSays('acme', PRODUCTION, waId, 'Open today?', `wamid.in-${waId}`);
    await harness.agent.reply('Until 18:00.');
    await saying;
    await harness.settle();
    const read = fake.requests.filter((request) => request.body?.status === 'read');
    expect(read).toEqual([
      expect.objectContaining({
        body: { messaging_product: 'whatsapp', status: 'read', message_id: `wamid.in-${waId}` },
      }),
    ]);
    expect(fake.messagesTo(waId)).toHaveLength(1);
    expect(await metric('botrelic_typing_indicators_total{result="read"}')).toBe(1);
    expect(await metric('botrelic_typing_indicators_total{result="shown"}')).toBe(0);
  });

  it('answers even when the typing indicator fails', async () => {
    const waId = String(++customer);
    fake.failNext(1, META_ERRORS.somethingWentWrong);
    const address = await harness.customerSays('acme', PRODUCTION, waId, 'Hello?');
    await fake.waitForRequests(1);
    await harness.agent.reply('Hi!');
    await harness.settle();
    expect(fake.messagesTo(waId)).toHaveLength(1);
    expect(await outbound(address)).toEqual([expect.objectContaining({ status: 'sent' })]);
    // Best effort: tried once, not retried.
    expect(fake.requests.filter((request) => request.body?.status === 'read')).toHaveLength(1);
    expect(await metric('botrelic_typing_indicators_total{result="failed"}')).toBe(1);
  });

  it("fails a reply Meta refuses with Meta's code and title, and the session history shows it", async () => {
    const waId = String(++customer);
    const address = await harness.customerSays('acme', PRODUCTION, waId, 'Hello?');
    await fake.waitForRequests(1);
    fake.failNext(1, META_ERRORS.undeliverable);
    await harness.agent.reply('Hi!');
    await harness.settle();

    const [reply] = await outbound(address);
    expect(reply).toMatchObject({
      status: 'failed',
      wamid: null,
      error_code: 131026,
      error_title: 'Message Undeliverable',
    });
    expect((await history(address)).filter((entry) => entry.kind === 'delivery_failed')).toEqual([
      {
        kind: 'delivery_failed',
        at: harness.clock.now(),
        wamid: reply!.id,
        code: 131026,
        title: 'Message Undeliverable',
      },
    ]);
    expect(fake.messagesTo(waId)).toEqual([]);
  });

  it('refuses a free-form notice after the 24-hour window (131047) and lets the agent reach the customer with a template', async () => {
    const waId = String(++customer);
    const address = await harness.customerSays('acme', PRODUCTION, waId, 'I want a human');
    await harness.agent.fallback('keyword');
    await harness.settle();
    expect(fake.messagesTo(waId).map((request) => request.body?.text)).toEqual([
      { body: 'Let me connect you with our team.' },
    ]);

    // Nobody took it for 25 h: the wait notice is due, but the window closed at 24 h.
    await harness.advance(25 * HOUR);
    const notice = (await outbound(address)).find((message) => message.body === 'Sorry for the wait.');
    expect(notice).toMatchObject({
      status: 'failed',
      error_code: 131047,
      error_title: 'Re-engagement message: outside the 24-hour customer service window; send a template',
    });
    expect(fake.messagesTo(waId)).toHaveLength(1);
    expect((await history(address)).at(-1)).toMatchObject({
      kind: 'delivery_failed',
      wamid: notice!.id,
      code: 131047,
    });

    const taken = await harness.engine.sessions.command(address, {
      type: 'agent.takeover',
      agentId: 'alice',
    });
    expect(taken).toMatchObject({ ok: true, state: 'human' });
    const sessionId = taken.ok ? taken.sessionId : '';
    // A free-form reply is refused by the session itself; a template is not.
    expect(
      await harness.engine.sessions.command(address, {
        type: 'agent.message',
        agentId: 'alice',
        text: 'Hi!',
      }),
    ).toMatchObject({ ok: false, error: 'rejected' });
    const template = {
      name: 'support_follow_up',
      language: 'en_US',
      components: [{ type: 'body', parameters: [{ type: 'text', text: 'Alice' }] }],
    };
    expect(
      await sendTemplate(harness.engine.sessions, address, { sessionId, agentId: 'alice', template }),
    ).toMatchObject({
      ok: true,
      state: 'human',
    });
    await harness.settle();

    expect(fake.messagesTo(waId).at(-1)?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: waId,
      type: 'template',
      template: { name: 'support_follow_up', language: { code: 'en_US' }, components: template.components },
    });
    expect((await outbound(address)).at(-1)).toMatchObject({
      author: 'agent',
      type: 'template',
      body: 'Template "support_follow_up" (en_US)',
      status: 'sent',
    });
    expect((await history(address)).at(-1)).toMatchObject({
      kind: 'agent',
      agentId: 'alice',
      text: 'Template "support_follow_up" (en_US)',
      template: 'support_follow_up',
    });
  });

  it('takes templates only from the agent the session is assigned to', async () => {
    const waId = String(++customer);
    const address = await harness.customerSays('acme', PRODUCTION, waId, 'human');
    await harness.agent.fallback('keyword');
    await harness.settle();
    const template = { name: 'support_follow_up', language: 'en_US' };
    expect(
      await sendTemplate(harness.engine.sessions, address, { sessionId: 'any', agentId: 'alice', template }),
    ).toMatchObject({ ok: false, error: 'not_found' });
    const stored = await outbound(address);
    const taken = await harness.engine.sessions.command(address, {
      type: 'agent.takeover',
      agentId: 'alice',
    });
    const sessionId = taken.ok ? taken.sessionId : '';
    expect(
      await sendTemplate(harness.engine.sessions, address, { sessionId, agentId: 'mallory', template }),
    ).toMatchObject({ ok: false, error: 'rejected' });
    await harness.settle();
    expect(await outbound(address)).toEqual(stored);
  });
});

describe('a sandbox number', () => {
  it('never calls the Graph API: the reply lands in the sandbox outbox, then turns delivered and read', async () => {
    const waId = String(++customer);
    const address = await harness.customerSays('acme', SANDBOX, waId, 'Do you open on Sundays?');
    await harness.agent.reply('Yes, 10 to 4.');
    await harness.settle();
    expect(fake.requests).toEqual([]);

    const read = async () => {
      const response = await harness.engine.app.inject({
        method: 'GET',
        url: `/api/workspaces/acme/sandbox/outbox?to=${waId}`,
        headers: { authorization: `Bearer ${ALICE}` },
      });
      expect(response.statusCode).toBe(200);
      return (response.json() as { messages: Record<string, unknown>[] }).messages;
    };
    const [reply] = await read();
    const [stored] = await outbound(address);
    expect(reply).toEqual({
      id: stored!.id,
      sessionId: expect.any(String),
      phoneNumberId: SANDBOX,
      to: waId,
      author: 'ai',
      type: 'text',
      text: 'Yes, 10 to 4.',
      template: null,
      status: 'sent',
      wamid: expect.stringMatching(/^wamid\.sandbox\./),
      error: null,
      createdAt: harness.clock.now(),
      sentAt: harness.clock.now(),
    });
    await harness.advance(1_000);
    expect((await read())[0]?.status).toBe('delivered');
    await harness.advance(1_000);
    expect((await read())[0]?.status).toBe('read');
    expect(fake.requests).toEqual([]);
    expect(await metric('botrelic_outbox_sent_total{mode="sandbox"}')).toBe(1);
  });
});
