import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionView } from '../../src/gateway/agent-api-schemas.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';
import { ACME_NUMBER, testConfig } from '../support/test-config.ts';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const ACME_PRODUCTION_NUMBER = '109999999999991';
const MINUTE = 60_000;
const WAIT_TEXT = testConfig().workspaces[0]!.sessions.handoffTimeoutMessage;

let database: TestDatabase;
let transport: TestTransport;
let harness: TestEngine;
let customer = 4_918_000_000_000;

async function call(method: 'GET' | 'POST', url: string, token: string | null = ALICE) {
  const response = await harness.engine.app.inject({
    method,
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.statusCode, body: response.json() };
}

const advance = (sessionId: string, token?: string | null) =>
  call('POST', `/api/sessions/${sessionId}/advance`, token);

async function session(sessionId: string): Promise<SessionView> {
  return (await call('GET', `/api/sessions/${sessionId}`)).body;
}

async function sessionOf(waId: string): Promise<{ id: string; state: string }> {
  const row = await database.db
    .selectFrom('sessions')
    .select(['id', 'state'])
    .where('customer_wa_id', '=', waId)
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow();
  return row;
}

/** A session waiting for a person (fallback), its handoff deadline 15 minutes after now. */
async function waitingSession(phoneNumberId = ACME_NUMBER): Promise<string> {
  const waId = String(++customer);
  await harness.customerSays('acme', phoneNumberId, waId, 'a human please');
  await harness.agent.fallback('keyword');
  await harness.settle();
  const { id, state } = await sessionOf(waId);
  expect(state).toBe('fallback');
  return id;
}

describe('sandbox routes', () => {
  beforeAll(async () => {
    const config = testConfig();
    config.workspaces[0]!.phoneNumbers.push({
      phoneNumberId: ACME_PRODUCTION_NUMBER,
      mode: 'production',
      accessToken: 'production-access-token',
    });
    database = await createTestDatabase();
    transport = await connectTestTransport();
    harness = await startTestEngine({
      database,
      transport: transport.transport,
      config,
      env: { WHATSAPP_APP_SECRET: 'app-secret-for-tests' },
    });
  });

  afterAll(async () => {
    await harness?.stop();
    await transport?.close();
    await database?.close();
  });

  it("GET /api/sandbox lists the caller's workspace and its sandbox numbers only", async () => {
    expect(await call('GET', '/api/sandbox')).toEqual({
      status: 200,
      body: {
        workspaceId: 'acme',
        workspaceName: 'Acme Store',
        agent: { agentId: 'alice', name: 'Alice' },
        phoneNumbers: [{ phoneNumberId: ACME_NUMBER, displayPhoneNumber: null }],
      },
    });
    expect((await call('GET', '/api/sandbox', BOB)).body.workspaceId).toBe('globex');
    expect((await call('GET', '/api/sandbox', null)).status).toBe(401);
  });

  it('advance fires the pending handoff timeout now, stamped with its deadline, without moving the clock', async () => {
    const sessionId = await waitingSession();
    const before = await session(sessionId);
    const deadline = before.session.handoff!.requestedAt + 15 * MINUTE;
    const now = harness.clock.now();

    const fired = await advance(sessionId);
    expect(fired).toEqual({
      status: 200,
      body: { sessionId, state: 'fallback', version: expect.any(Number) },
    });
    const after = await session(sessionId);
    expect(after.transcript.filter((m) => m.author === 'system').map((m) => m.text)).toContain(WAIT_TEXT);
    expect(after.session.handoff?.customerNotifiedAt).toBe(deadline);
    expect(harness.clock.now()).toBe(now);

    // The next pending timeout is the customer's inactivity: firing it closes the session.
    expect((await advance(sessionId)).body.state).toBe('closed');
    expect((await session(sessionId)).session.closedReason).toBe('inactivity');
    expect(await advance(sessionId)).toMatchObject({ status: 409, body: { error: 'session_closed' } });
  });

  it('advance during an AI call fires the AI timeout: the session falls back with ai_error', async () => {
    const waId = String(++customer);
    await harness.customerSays('acme', ACME_NUMBER, waId, 'hello?');
    const { id, state } = await sessionOf(waId);
    expect(state).toBe('ai_responding');
    expect((await advance(id)).body.state).toBe('fallback');
    expect((await session(id)).decisions.at(-1)).toMatchObject({ kind: 'fallback', reason: 'ai_error' });
  });

  it("is not for production numbers or another workspace's sessions: 404, and nothing changes", async () => {
    const production = await waitingSession(ACME_PRODUCTION_NUMBER);
    expect(await advance(production)).toMatchObject({ status: 404, body: { error: 'session_not_found' } });
    const sandbox = await waitingSession();
    expect(await advance(sandbox, BOB)).toMatchObject({ status: 404, body: { error: 'session_not_found' } });
    expect((await advance(sandbox, null)).status).toBe(401);
    expect(await advance('no-such-session')).toMatchObject({ status: 404 });
    for (const id of [production, sandbox]) {
      const view = await session(id);
      expect(view.session.state).toBe('fallback');
      expect(view.session.handoff?.customerNotifiedAt).toBeNull();
    }
  });
});
