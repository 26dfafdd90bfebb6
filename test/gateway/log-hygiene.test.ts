import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotrelicConfig, botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type FakeGraphApi, META_ERRORS, startFakeGraphApi } from '../support/fake-graph-api.ts';
import { FIXTURE_TIME, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { postWebhook, signed, textMessagesWebhook } from '../support/meta-webhook.ts';

/**
 * What reaches the logs at info level while a conversation runs through the gateway end to end: signed
 * webhooks in, the AI's answer out through the Graph API, a handoff worked by an agent, the sandbox, the
 * knowledge API, and the refusals on the way (bad signature, wrong tokens, malformed JSON, a Graph API
 * failure). Every secret and every message text is unique, so finding any of them in the output means it
 * leaked, whatever code path wrote it.
 */
const unique = (label: string) => `${label}-${randomBytes(8).toString('hex')}`;

const PRODUCTION = '109999999999991';
const SANDBOX = '106540352242922';
const CUSTOMER = '4479000000123';
/** Meta allows a burst of a few messages to one customer, then one every 6 s: the clock moves past that. */
const PACING_MS = 7_000;
const SECRETS = {
  accessToken: unique('EAAGaccessToken'),
  agentToken: unique('agent-token'),
  appSecret: unique('app-secret'),
  verifyToken: unique('verify-token'),
  adminToken: unique('admin-token'),
};
const BODIES = {
  customer: unique('customer-says'),
  handoff: `human ${unique('customer-wants-a-person')}`,
  ai: unique('ai-answers'),
  agent: unique('agent-writes'),
  agentRetry: unique('agent-writes-again'),
  sandbox: unique('sandbox-customer-says'),
  knowledge: unique('knowledge-document-says'),
};

function config(): BotrelicConfig {
  return botrelicConfigSchema.parse({
    workspaces: [
      {
        id: 'acme',
        name: 'Acme Store',
        phoneNumbers: [
          { phoneNumberId: PRODUCTION, mode: 'production', accessToken: SECRETS.accessToken },
          { phoneNumberId: SANDBOX, mode: 'sandbox' },
        ],
        fallback: { keywords: ['human'], message: 'Let me connect you with our team.' },
        humanTeams: [{ id: 'support', agents: [{ id: 'alice', name: 'Alice', token: SECRETS.agentToken }] }],
      },
    ],
  });
}

describe('logs at info level', () => {
  const lines: string[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  let fake: FakeGraphApi;
  let gateway: TestGateway;
  const signatures: string[] = [];

  beforeAll(async () => {
    fake = await startFakeGraphApi({ accessToken: SECRETS.accessToken });
    gateway = await startTestGateway({
      config: config(),
      env: {
        WHATSAPP_APP_SECRET: SECRETS.appSecret,
        WHATSAPP_VERIFY_TOKEN: SECRETS.verifyToken,
        WHATSAPP_GRAPH_URL: fake.url,
        BOTRELIC_ADMIN_TOKEN: SECRETS.adminToken,
      },
      logger: createLogger({ level: 'info', destination: capture }),
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await fake?.close();
  });

  const api = (path: string, init: { method?: string; token?: string; body?: unknown } = {}) =>
    fetch(`${gateway.baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${init.token ?? SECRETS.agentToken}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  async function customerWrites(text: string) {
    const webhook = signed(
      textMessagesWebhook(
        [{ from: CUSTOMER, wamid: unique('wamid.HBgN'), text, sentAt: FIXTURE_TIME }],
        PRODUCTION,
      ),
      SECRETS.appSecret,
    );
    signatures.push(webhook.headers['x-hub-signature-256']!);
    expect((await postWebhook(gateway.baseUrl, webhook)).status).toBe(200);
    await gateway.settle();
  }

  it('carry no message text and no secret through a whole conversation', async () => {
    // Meta's subscription check, right and wrong.
    const challenge = `${gateway.baseUrl}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=42`;
    expect((await fetch(`${challenge}&hub.verify_token=${SECRETS.verifyToken}`)).status).toBe(200);
    expect((await fetch(`${challenge}&hub.verify_token=${SECRETS.verifyToken}x`)).status).toBe(403);

    // The customer asks; the AI answers through the Graph API with the number's token.
    await customerWrites(BODIES.customer);
    await gateway.agent.reply(BODIES.ai);
    await gateway.advance(PACING_MS);
    await fake.waitForRequests(1);
    expect(fake.messagesTo(CUSTOMER).at(-1)?.body).toMatchObject({ text: { body: BODIES.ai } });

    // A forged webhook, signed with another secret, and malformed JSON with a valid signature.
    const forged = signed({ object: 'whatsapp_business_account', entry: [] }, unique('wrong-secret'));
    signatures.push(forged.headers['x-hub-signature-256']!);
    expect((await postWebhook(gateway.baseUrl, forged)).status).toBe(401);
    const malformed = signed(Buffer.from(`{"entry": [${BODIES.customer}`), SECRETS.appSecret);
    signatures.push(malformed.headers['x-hub-signature-256']!);
    expect((await postWebhook(gateway.baseUrl, malformed)).status).toBe(400);

    // Asking for a person hands the session off; Alice takes it and writes, once through a Graph API failure.
    await customerWrites(BODIES.handoff);
    await gateway.agent.fallback('keyword');
    await gateway.advance(PACING_MS);
    const inbox = (await (await api('/api/inbox')).json()) as {
      queues: { waiting: { sessionId: string }[] }[];
    };
    const sessionId = inbox.queues.flatMap((queue) => queue.waiting)[0]!.sessionId;
    expect((await api(`/api/sessions/${sessionId}/takeover`, { method: 'POST' })).status).toBe(200);
    expect(
      (await api(`/api/sessions/${sessionId}/messages`, { method: 'POST', body: { text: BODIES.agent } }))
        .status,
    ).toBe(202);
    fake.failNext(1, META_ERRORS.undeliverable);
    expect(
      (
        await api(`/api/sessions/${sessionId}/messages`, {
          method: 'POST',
          body: { text: BODIES.agentRetry },
        })
      ).status,
    ).toBe(202);
    await gateway.advance(PACING_MS);
    expect((await api(`/api/sessions/${sessionId}/close`, { method: 'POST' })).status).toBe(200);
    await gateway.advance(PACING_MS);

    // A wrong agent token, the sandbox customer, the knowledge API with the admin token and a wrong one.
    expect((await api('/api/inbox', { token: `${SECRETS.agentToken}x` })).status).toBe(401);
    expect(
      (
        await api('/api/workspaces/acme/sandbox/messages', {
          method: 'POST',
          body: { from: '15550001234', text: BODIES.sandbox },
        })
      ).status,
    ).toBe(202);
    await gateway.settle();
    await gateway.agent.reply(BODIES.ai);
    await gateway.advance(PACING_MS);
    const document = { title: 'Opening hours', content: BODIES.knowledge };
    const knowledge = '/api/workspaces/acme/knowledge/opening-hours';
    expect((await api(knowledge, { method: 'PUT', token: SECRETS.adminToken, body: document })).status).toBe(
      200,
    );
    expect(
      (await api(knowledge, { method: 'PUT', token: `${SECRETS.adminToken}x`, body: document })).status,
    ).toBe(401);

    // The capture works: the conversation's info lines are there, with their workspace and session.
    const logged = lines.join('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(logged).toContain('"msg":"session started"');
    expect(logged).toContain('"workspaceId":"acme"');
    for (const line of lines) expect(JSON.parse(line).level).toBeGreaterThanOrEqual(30);

    // The unique part of each text, and each signature's hex digest, are what a leak would show.
    const needles = [
      ...Object.entries(SECRETS),
      ...Object.entries(BODIES).map(([name, text]) => [name, text.replace(/^human /, '')]),
      ...signatures.map((signature) => ['signature', signature.replace(/^sha256=/, '')]),
    ];
    const leaks = needles.filter(([, value]) => logged.includes(value!));
    expect(leaks).toEqual([]);
  }, 60_000);
});
