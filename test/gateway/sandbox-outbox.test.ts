import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { type FakeGraphApi, startFakeGraphApi } from '../support/fake-graph-api.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';
import { ACME_NUMBER, GLOBEX_NUMBER, testConfig } from '../support/test-config.ts';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const ACME_PRODUCTION = '109999999999991';
const TOKEN = 'EAAGproductionTokenThatIsNeverLogged';

interface OutboxMessage {
  id: string;
  to: string;
  phoneNumberId: string;
  text: string | null;
  status: string;
}

let database: TestDatabase;
let transport: TestTransport;
let fake: FakeGraphApi;
let harness: TestEngine;
let baseUrl: string;

/** Each customer writes once and the AI answers with one reply, in this order. */
const conversations = [
  { workspaceId: 'acme', number: ACME_NUMBER, waId: '15550001', reply: 'acme one' },
  { workspaceId: 'acme', number: ACME_PRODUCTION, waId: '15550002', reply: 'acme production' },
  { workspaceId: 'globex', number: GLOBEX_NUMBER, waId: '15550003', reply: 'globex one' },
  { workspaceId: 'acme', number: ACME_NUMBER, waId: '15550004', reply: 'acme two' },
  { workspaceId: 'acme', number: ACME_NUMBER, waId: '15550001', reply: 'acme three' },
];

beforeAll(async () => {
  database = await createTestDatabase();
  transport = await connectTestTransport();
  fake = await startFakeGraphApi({ accessToken: TOKEN });
  const config = testConfig();
  config.workspaces[0]!.phoneNumbers.push({
    phoneNumberId: ACME_PRODUCTION,
    mode: 'production',
    accessToken: TOKEN,
  });
  harness = await startTestEngine({
    database,
    transport: transport.transport,
    config,
    env: { WHATSAPP_APP_SECRET: 'app-secret-for-tests', WHATSAPP_GRAPH_URL: fake.url },
  });
  baseUrl = await harness.engine.app.listen({ port: 0, host: '127.0.0.1' });
  for (const { workspaceId, number, waId, reply } of conversations) {
    await harness.customerSays(workspaceId, number, waId, `question for ${reply}`);
    await harness.agent.reply(reply);
    await harness.settle();
  }
});

afterAll(async () => {
  await harness?.stop();
  await fake?.close();
  await transport?.close();
  await database?.close();
});

async function outbox(query = '', options: { token?: string | null; workspaceId?: string } = {}) {
  const token = options.token === undefined ? ALICE : options.token;
  const response = await fetch(
    `${baseUrl}/api/workspaces/${options.workspaceId ?? 'acme'}/sandbox/outbox${query}`,
    {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    },
  );
  return {
    status: response.status,
    body: (await response.json()) as { messages: OutboxMessage[] } & Record<string, unknown>,
  };
}

const texts = (messages: OutboxMessage[]) => messages.map((message) => message.text);

describe('GET /api/workspaces/:workspaceId/sandbox/outbox', () => {
  it("lists the workspace's sandbox messages only, newest last", async () => {
    const { status, body } = await outbox();
    expect(status).toBe(200);
    expect(texts(body.messages)).toEqual(['acme one', 'acme two', 'acme three']);
    expect(body.messages.every((message) => message.phoneNumberId === ACME_NUMBER)).toBe(true);
    // The production reply went to Meta, not to the sandbox.
    expect(fake.messagesTo('15550002')).toHaveLength(1);
  });

  it('filters by customer and pages after an id', async () => {
    expect(texts((await outbox('?to=15550001')).body.messages)).toEqual(['acme one', 'acme three']);
    const [first] = (await outbox()).body.messages;
    expect(texts((await outbox(`?after=${first!.id}&limit=1`)).body.messages)).toEqual(['acme two']);
    // Without a cursor, the newest `limit`, still newest last.
    expect(texts((await outbox('?limit=2')).body.messages)).toEqual(['acme two', 'acme three']);
  });

  it("wants the workspace's own agent token: none is 401, another workspace's is 404 like a missing workspace", async () => {
    expect((await outbox('', { token: null })).status).toBe(401);
    expect((await outbox('', { token: 'not-a-real-token-000000' })).status).toBe(401);
    const foreign = await outbox('', { token: BOB });
    const missing = await outbox('', { workspaceId: 'initech' });
    expect(foreign).toEqual({ status: 404, body: { error: 'not_found', message: 'no such workspace' } });
    expect(missing).toEqual(foreign);
    // Bob reads his own workspace, and only it.
    expect(texts((await outbox('', { token: BOB, workspaceId: 'globex' })).body.messages)).toEqual([
      'globex one',
    ]);
  });

  it('refuses malformed filters with 400', async () => {
    for (const query of ['?limit=0', '?limit=501', '?to=%2B1555', '?after=abc']) {
      const { status, body } = await outbox(query);
      expect(status, query).toBe(400);
      expect(body.error, query).toBe('invalid_request');
    }
  });

  it('is documented in the OpenAPI document with its response schema', async () => {
    const document = (await (await fetch(`${baseUrl}/api/openapi.json`)).json()) as {
      paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
    };
    const route = document.paths['/api/workspaces/{workspaceId}/sandbox/outbox']?.get;
    expect(Object.keys(route?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401', '404']));
  });
});
