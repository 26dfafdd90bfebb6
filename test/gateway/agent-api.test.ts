import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotrelicConfig, botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import type { InboxView, SessionView } from '../../src/gateway/agent-api-schemas.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { openEventStream } from '../support/event-stream-client.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';
import { ACME_NUMBER, GLOBEX_NUMBER } from '../support/test-config.ts';

const ALICE = 'alice-token-0123456789';
const CAROL = 'carol-token-0123456789';
const DAVE = 'dave-token-01234567890';
const BOB = 'bob-token-0123456789ab';
const HOUR = 60 * 60 * 1000;

/** Two workspaces; Acme has two teams, and refunds go to billing. Timeouts are long: this file tests the API. */
function inboxConfig(): BotrelicConfig {
  const sessions = { inactivityTimeout: '3d', handoffTimeout: '3d', humanInactivityTimeout: '3d' };
  return botrelicConfigSchema.parse({
    workspaces: [
      {
        id: 'acme',
        name: 'Acme Store',
        phoneNumbers: [{ phoneNumberId: ACME_NUMBER, mode: 'sandbox' }],
        fallback: { keywords: ['human'], message: 'Let me connect you with our team.' },
        humanTeams: [
          {
            id: 'support',
            agents: [
              { id: 'alice', name: 'Alice', token: ALICE },
              { id: 'carol', name: 'Carol', token: CAROL },
            ],
          },
          { id: 'billing', agents: [{ id: 'dave', name: 'Dave', token: DAVE }] },
        ],
        handoff: { rules: [{ keyword: 'refund', team: 'billing' }] },
        sessions,
      },
      {
        id: 'globex',
        name: 'Globex',
        phoneNumbers: [{ phoneNumberId: GLOBEX_NUMBER, mode: 'sandbox' }],
        humanTeams: [{ id: 'care', agents: [{ id: 'bob', name: 'Bob', token: BOB }] }],
        sessions,
      },
    ],
  });
}

let harness: TestEngine;
let transport: TestTransport;
let closeDatabase: () => Promise<void>;
let baseUrl: string;
let customer = 4_915_100_000_000;

beforeAll(async () => {
  const database = await createTestDatabase();
  closeDatabase = database.close;
  transport = await connectTestTransport();
  harness = await startTestEngine({ database, transport: transport.transport, config: inboxConfig() });
  await harness.engine.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(harness.engine.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await harness?.stop();
  await transport?.close();
  await closeDatabase?.();
});

async function call(token: string | null, method: 'GET' | 'POST', url: string, body?: unknown) {
  const response = await harness.engine.app.inject({
    method,
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: response.statusCode, body: response.json() };
}

const inbox = async (token: string) => (await call(token, 'GET', '/api/inbox')).body as InboxView;
/** Every waiting session of the inbox, whichever team's queue it is in. */
const waitingIn = (view: InboxView) => view.queues.flatMap((queue) => queue.waiting);
const view = async (token: string, sessionId: string) =>
  (await call(token, 'GET', `/api/sessions/${sessionId}`)).body as SessionView;

async function until<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A customer writes, the AI falls back: the session waits in the inbox. */
async function waitingSession(text = 'I want to talk to a human', workspace: 'acme' | 'globex' = 'acme') {
  const waId = String(++customer);
  await harness.customerSays(workspace, workspace === 'acme' ? ACME_NUMBER : GLOBEX_NUMBER, waId, text);
  await harness.agent.fallback('keyword');
  const token = workspace === 'acme' ? ALICE : BOB;
  const session = await until(
    async () => waitingIn(await inbox(token)).find((summary) => summary.customer.waId === waId),
    `a waiting session for ${waId}`,
  );
  return { waId, sessionId: session.sessionId };
}

describe('agent API authentication', () => {
  it('answers 401 with a Bearer challenge to a missing or unknown token, before looking at the body', async () => {
    for (const token of [null, 'not-a-token-of-anyone-at-all']) {
      const response = await harness.engine.app.inject({
        method: 'POST',
        url: '/api/sessions/x/messages',
        headers: token ? { authorization: `Bearer ${token}` } : {},
        payload: { wrong: true },
      });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(response.json().error).toBe('unauthorized');
    }
  });
});

describe('GET /api/inbox', () => {
  it('lists waiting sessions oldest first with reason and waiting time, then mine and others’', async () => {
    const first = await waitingSession();
    await harness.advance(60_000);
    const second = await waitingSession();
    const taken = await waitingSession();
    expect((await call(CAROL, 'POST', `/api/sessions/${taken.sessionId}/takeover`)).status).toBe(200);
    await harness.advance(30_000);

    const view = await inbox(ALICE);
    const waitingIds = waitingIn(view).map((summary) => summary.sessionId);
    expect(waitingIds.indexOf(first.sessionId)).toBeLessThan(waitingIds.indexOf(second.sessionId));
    const oldest = waitingIn(view).find((summary) => summary.sessionId === first.sessionId)!;
    expect(oldest.handoff).toMatchObject({ reason: 'keyword', teamId: 'support', agentId: null });
    expect(oldest.waitingMs).toBe(90_000);
    expect(oldest.lastMessage).toBe('I want to talk to a human');
    expect(view.others.map((summary) => summary.sessionId)).toContain(taken.sessionId);
    expect(view.mine.map((summary) => summary.sessionId)).not.toContain(taken.sessionId);
    expect(waitingIds).not.toContain(taken.sessionId);
    expect((await inbox(CAROL)).mine.map((summary) => summary.sessionId)).toContain(taken.sessionId);
    expect(view.agent).toEqual({ agentId: 'alice', name: 'Alice', teamIds: ['support'], available: false });
    expect(Number(view.lastEventId)).toBeGreaterThan(0);
  });

  it("queues a fallback for the team its routing rule names, others for the workspace's first team", async () => {
    const refund = await waitingSession('I need a human about my refund');
    const other = await waitingSession('a human please');
    const queued = (view: InboxView) =>
      view.queues.map((queue) => ({
        teamId: queue.teamId,
        own: queue.own,
        sessions: queue.waiting
          .map((summary) => summary.sessionId)
          .filter((id) => id === refund.sessionId || id === other.sessionId),
      }));
    // Each agent's own team comes first; the other team's queue is there too, apart, to help out.
    expect(queued(await inbox(DAVE))).toEqual([
      { teamId: 'billing', own: true, sessions: [refund.sessionId] },
      { teamId: 'support', own: false, sessions: [other.sessionId] },
    ]);
    expect(queued(await inbox(ALICE))).toEqual([
      { teamId: 'support', own: true, sessions: [other.sessionId] },
      { teamId: 'billing', own: false, sessions: [refund.sessionId] },
    ]);
    // Anyone may still take a session of another team's queue over.
    expect((await call(DAVE, 'POST', `/api/sessions/${other.sessionId}/takeover`)).status).toBe(200);
    await call(DAVE, 'POST', `/api/sessions/${other.sessionId}/close`);
    await call(DAVE, 'POST', `/api/sessions/${refund.sessionId}/close`);
  });
});

describe('GET /api/sessions/:sessionId', () => {
  it("shows state, customer, transcript with authors and statuses, the AI's decisions, handoffs, the window", async () => {
    const waId = String(++customer);
    await harness.customerSays('acme', ACME_NUMBER, waId, 'where is my order?');
    await harness.agent.reply('It ships tomorrow.', 0.82);
    await harness.settle();
    await harness.customerSays('acme', ACME_NUMBER, waId, 'human please');
    await harness.agent.fallback('keyword');
    const { sessionId } = await until(
      async () => waitingIn(await inbox(ALICE)).find((summary) => summary.customer.waId === waId),
      'the session to wait',
    );
    expect((await call(ALICE, 'POST', `/api/sessions/${sessionId}/takeover`)).status).toBe(200);

    // The sender delivers the outbox; then Meta reports the AI's answer read.
    await until(async () => {
      const { transcript } = await view(ALICE, sessionId);
      return transcript.every((message) => message.status !== 'pending') ? true : undefined;
    }, 'the outbox to be sent');
    await harness.engine.database.db
      .updateTable('messages')
      .set({ status: 'read' })
      .where('session_id', '=', sessionId)
      .where('author', '=', 'ai')
      .execute();

    const { status, body } = await call(ALICE, 'GET', `/api/sessions/${sessionId}`);
    expect(status).toBe(200);
    const session = body as SessionView;
    expect(session.session).toMatchObject({ sessionId, state: 'human', customer: { waId } });
    expect(session.transcript.map((message) => [message.author, message.text, message.status])).toEqual([
      ['customer', 'where is my order?', 'received'],
      ['ai', 'It ships tomorrow.', 'read'],
      ['customer', 'human please', 'received'],
      ['system', 'Let me connect you with our team.', 'sent'],
    ]);
    expect(session.decisions).toEqual([
      expect.objectContaining({ kind: 'ai', text: 'It ships tomorrow.', confidence: 0.82 }),
      expect.objectContaining({ kind: 'fallback', reason: 'keyword', evidence: { rule: 'scripted' } }),
    ]);
    expect(session.handoffHistory.map((step) => [step.kind, step.agentId, step.teamId])).toEqual([
      ['requested', null, 'support'],
      ['taken', 'alice', 'support'],
    ]);
    const lastCustomerMessage = harness.clock.now();
    expect(session.serviceWindow).toEqual({ endsAt: lastCustomerMessage + 24 * HOUR, open: true });
  });

  it('answers 404 for an unknown session', async () => {
    const { status, body } = await call(ALICE, 'GET', '/api/sessions/no-such-session');
    expect(status).toBe(404);
    expect(body.error).toBe('session_not_found');
  });
});

describe('POST /api/sessions/:sessionId/takeover', () => {
  it('lets exactly one of two racing agents win; the other gets 409', async () => {
    const { sessionId } = await waitingSession();
    const results = await Promise.all([
      call(ALICE, 'POST', `/api/sessions/${sessionId}/takeover`),
      call(CAROL, 'POST', `/api/sessions/${sessionId}/takeover`),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 409]);
    const winner = results[0]!.status === 200 ? 'alice' : 'carol';
    const loser = results.find((result) => result.status === 409)!;
    expect(loser.body).toMatchObject({ error: 'already_taken' });
    expect(loser.body.message).toContain(winner);
    expect((await view(ALICE, sessionId)).session.handoff?.agentId).toBe(winner);
  });

  it('silences the AI, also for an answer already being composed and for later customer messages', async () => {
    const waId = String(++customer);
    await harness.customerSays('acme', ACME_NUMBER, waId, 'hello?');
    const inFlight = await harness.agent.nextCall();
    const sessionId = await until(async () => {
      const row = await harness.engine.database.db
        .selectFrom('sessions')
        .select('id')
        .where('customer_wa_id', '=', waId)
        .executeTakeFirst();
      return row?.id;
    }, 'the session row');

    expect((await call(ALICE, 'POST', `/api/sessions/${sessionId}/takeover`)).status).toBe(200);
    inFlight.resolve({
      kind: 'reply',
      text: 'AI answer that must not be sent',
      confidence: 0.9,
      lowConfidence: false,
      chunks: [],
    });
    const callsBefore = harness.agent.calls.length;
    await harness.customerSays('acme', ACME_NUMBER, waId, 'are you there?');
    await harness.settle();

    expect(harness.agent.calls.length).toBe(callsBefore);
    const session = await view(ALICE, sessionId);
    expect(session.session.state).toBe('human');
    expect(session.transcript.filter((message) => message.direction === 'out')).toEqual([]);
    expect(session.transcript.map((message) => message.text)).toEqual(['hello?', 'are you there?']);
  });

  it("never reaches the customer's next session when the one it names has closed", async () => {
    const { sessionId, waId } = await waitingSession();
    await call(ALICE, 'POST', `/api/sessions/${sessionId}/close`);
    await harness.customerSays('acme', ACME_NUMBER, waId, 'hello again');
    const address = harness.engine.sessions.addressOf('acme', ACME_NUMBER, waId);
    // As if the close had raced the takeover: the command reaches the key's new session.
    const result = await harness.engine.sessions.command(address, {
      type: 'agent.takeover',
      agentId: 'alice',
      sessionId,
    });
    expect(result).toEqual({ ok: false, error: 'not_found' });
    const next = await harness.engine.database.db
      .selectFrom('sessions')
      .select(['id', 'state'])
      .where('customer_wa_id', '=', waId)
      .where('closed_at', 'is', null)
      .executeTakeFirstOrThrow();
    expect(next.id).not.toBe(sessionId);
    expect(next.state).toBe('ai_responding');
    await harness.agent.reply('Hi again!');
  });

  it('answers 409 for a closed session', async () => {
    const { sessionId } = await waitingSession();
    expect((await call(ALICE, 'POST', `/api/sessions/${sessionId}/close`)).status).toBe(200);
    const { status, body } = await call(CAROL, 'POST', `/api/sessions/${sessionId}/takeover`);
    expect(status).toBe(409);
    expect(body.error).toBe('session_closed');
  });
});

describe('POST /api/sessions/:sessionId/messages', () => {
  it('queues the reply in the outbox for the same WhatsApp thread, written by the agent', async () => {
    const { sessionId, waId } = await waitingSession();
    await call(ALICE, 'POST', `/api/sessions/${sessionId}/takeover`);
    const { status, body } = await call(ALICE, 'POST', `/api/sessions/${sessionId}/messages`, {
      text: 'Hi, Alice here. Let me check.',
    });
    expect(status).toBe(202);
    expect(body).toMatchObject({ sessionId, state: 'human' });
    const outbox = await harness.engine.database.db
      .selectFrom('outbox')
      .innerJoin('messages', 'messages.id', 'outbox.message_id')
      .select(['outbox.customer_wa_id', 'outbox.phone_number_id', 'messages.author', 'messages.body'])
      .where('outbox.session_id', '=', sessionId)
      .where('messages.author', '=', 'agent')
      .execute();
    expect(outbox).toEqual([
      {
        customer_wa_id: waId,
        phone_number_id: ACME_NUMBER,
        author: 'agent',
        body: 'Hi, Alice here. Let me check.',
      },
    ]);
  });

  it('refuses an agent who has not taken the session over, and one whose colleague owns it', async () => {
    const { sessionId } = await waitingSession();
    const early = await call(ALICE, 'POST', `/api/sessions/${sessionId}/messages`, { text: 'hello' });
    expect([early.status, early.body.error]).toEqual([409, 'not_taken_over']);
    await call(CAROL, 'POST', `/api/sessions/${sessionId}/takeover`);
    const other = await call(ALICE, 'POST', `/api/sessions/${sessionId}/messages`, { text: 'hello' });
    expect([other.status, other.body.error]).toEqual([409, 'not_your_session']);
    expect(other.body.message).toContain('carol');
  });

  it('refuses an empty or oversized text with 400', async () => {
    const { sessionId } = await waitingSession();
    await call(ALICE, 'POST', `/api/sessions/${sessionId}/takeover`);
    for (const body of [{ text: '   ' }, { text: 'x'.repeat(4097) }, {}]) {
      const response = await call(ALICE, 'POST', `/api/sessions/${sessionId}/messages`, body);
      expect([response.status, response.body.error]).toEqual([400, 'invalid_request']);
    }
  });

  it('refuses with 422 outside the 24-hour window and offers the template route', async () => {
    const { sessionId } = await waitingSession();
    await call(ALICE, 'POST', `/api/sessions/${sessionId}/takeover`);
    const lastCustomerMessage = (await view(ALICE, sessionId)).serviceWindow.endsAt! - 24 * HOUR;
    await harness.advance(24 * HOUR - (harness.clock.now() - lastCustomerMessage) - 1);
    expect(
      (await call(ALICE, 'POST', `/api/sessions/${sessionId}/messages`, { text: 'just in time' })).status,
    ).toBe(202);
    await harness.advance(1);
    const late = await call(ALICE, 'POST', `/api/sessions/${sessionId}/messages`, { text: 'too late' });
    expect(late.status).toBe(422);
    expect(late.body).toMatchObject({
      error: 'outside_service_window',
      serviceWindowEndedAt: lastCustomerMessage + 24 * HOUR,
      templateRoute: `/api/sessions/${sessionId}/templates`,
    });
    expect(late.body.message).toMatch(/24-hour/);
    const texts = (await view(ALICE, sessionId)).transcript.map((message) => message.text);
    expect(texts).toContain('just in time');
    expect(texts).not.toContain('too late');

    // The offered route: an approved template still reaches the customer.
    const template = {
      name: 'order_update',
      language: 'en_US',
      components: [{ type: 'body', parameters: [] }],
    };
    const notMine = await call(CAROL, 'POST', late.body.templateRoute, template);
    expect([notMine.status, notMine.body.error]).toEqual([409, 'not_your_session']);
    expect((await call(ALICE, 'POST', late.body.templateRoute, template)).status).toBe(202);
    const sent = await harness.engine.database.db
      .selectFrom('outbox')
      .select('payload')
      .where('session_id', '=', sessionId)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(sent.payload).toEqual({
      type: 'template',
      template: { name: 'order_update', language: { code: 'en_US' }, components: template.components },
    });
    const bad = await call(ALICE, 'POST', late.body.templateRoute, {
      name: 'Order Update!',
      language: 'en_US',
    });
    expect([bad.status, bad.body.error]).toEqual([400, 'invalid_request']);
  });
});

describe('POST /api/sessions/:sessionId/release and /close', () => {
  it('hands the session back to the AI with a handback marker; the AI answers the next message', async () => {
    const { sessionId, waId } = await waitingSession();
    await call(ALICE, 'POST', `/api/sessions/${sessionId}/takeover`);
    const notMine = await call(CAROL, 'POST', `/api/sessions/${sessionId}/release`);
    expect([notMine.status, notMine.body.error]).toEqual([409, 'not_your_session']);

    const released = await call(ALICE, 'POST', `/api/sessions/${sessionId}/release`);
    expect(released).toMatchObject({ status: 200, body: { sessionId, state: 'active' } });
    const session = await view(ALICE, sessionId);
    expect(session.decisions.at(-1)).toMatchObject({ kind: 'handback', agentId: 'alice' });
    expect(session.handoffHistory.map((step) => step.kind)).toEqual(['requested', 'taken', 'released']);

    await harness.customerSays('acme', ACME_NUMBER, waId, 'one more question');
    const request = await harness.agent.reply('Sure, here you go.');
    expect(request.history.some((entry) => entry.kind === 'handback')).toBe(true);
  });

  it('closes the session for good', async () => {
    const { sessionId } = await waitingSession();
    await call(ALICE, 'POST', `/api/sessions/${sessionId}/takeover`);
    expect(await call(CAROL, 'POST', `/api/sessions/${sessionId}/close`)).toMatchObject({
      status: 200,
      body: { state: 'closed' },
    });
    const session = await view(ALICE, sessionId);
    expect(session.session).toMatchObject({ state: 'closed', closedReason: 'agent' });
    expect(session.session.closedAt).not.toBeNull();
    expect(session.handoffHistory.at(-1)?.kind).toBe('closed');
    const again = await call(ALICE, 'POST', `/api/sessions/${sessionId}/close`);
    expect([again.status, again.body.error]).toEqual([409, 'session_closed']);
  });
});

describe('workspace isolation', () => {
  it("answers 404 to every route for another workspace's session, as if it did not exist", async () => {
    const { sessionId } = await waitingSession();
    const routes: ['GET' | 'POST', string, unknown?][] = [
      ['GET', `/api/sessions/${sessionId}`],
      ['POST', `/api/sessions/${sessionId}/takeover`],
      ['POST', `/api/sessions/${sessionId}/messages`, { text: 'hi' }],
      ['POST', `/api/sessions/${sessionId}/templates`, { name: 'order_update', language: 'en_US' }],
      ['POST', `/api/sessions/${sessionId}/release`],
      ['POST', `/api/sessions/${sessionId}/close`],
    ];
    for (const [method, url, body] of routes) {
      const response = await call(BOB, method, url, body);
      expect([url, response.status, response.body.error]).toEqual([url, 404, 'session_not_found']);
    }
    expect((await view(ALICE, sessionId)).session.state).toBe('fallback');
    const globex = await inbox(BOB);
    const acme = await inbox(ALICE);
    const ids = (view: InboxView) =>
      [...waitingIn(view), ...view.mine, ...view.others].map((s) => s.sessionId);
    expect(ids(acme)).toContain(sessionId);
    expect(ids(globex).filter((id) => ids(acme).includes(id))).toEqual([]);
  });

  it("never streams one workspace's events to another's agents", async () => {
    const globex = await openEventStream(baseUrl, BOB);
    const acme = await openEventStream(baseUrl, ALICE);
    try {
      await globex.next((event) => event.event === 'ready');
      await acme.next((event) => event.event === 'ready');
      const { sessionId } = await waitingSession();
      await acme.next(
        (event) => event.event === 'session.waiting' && JSON.parse(event.data).sessionId === sessionId,
      );
      const { sessionId: own } = await waitingSession('a human please', 'globex');
      const received = await globex.next((event) => event.event === 'session.waiting');
      expect(JSON.parse(received.data).sessionId).toBe(own);
      expect(globex.events.map((event) => event.data).join()).not.toContain(sessionId);
    } finally {
      globex.close();
      acme.close();
    }
  });
});

describe('GET /api/events', () => {
  it('streams new waiting sessions, messages, assignments and state changes live', async () => {
    const stream = await openEventStream(baseUrl, ALICE);
    try {
      expect(stream.status).toBe(200);
      await stream.next((event) => event.event === 'ready');
      const { sessionId } = await waitingSession();
      // The session's own changes; its messages' delivery statuses come as `message.status`, checked below.
      const mine = (event: { event: string; data: string }) =>
        event.event.startsWith('session.') && JSON.parse(event.data).sessionId === sessionId;
      const waiting = await stream.next((event) => event.event === 'session.waiting' && mine(event));
      expect(JSON.parse(waiting.data)).toMatchObject({
        state: 'fallback',
        previousState: 'ai_responding',
        handoff: { reason: 'keyword', teamId: 'support' },
        changes: ['waiting'],
      });
      await call(CAROL, 'POST', `/api/sessions/${sessionId}/takeover`);
      const assigned = await stream.next(mine);
      expect([assigned.event, JSON.parse(assigned.data).handoff.agentId]).toEqual([
        'session.assigned',
        'carol',
      ]);
      await call(CAROL, 'POST', `/api/sessions/${sessionId}/messages`, { text: 'Carol here' });
      const message = await stream.next(mine);
      expect(message.event).toBe('session.message');
      expect(JSON.parse(message.data).entries).toMatchObject([
        { kind: 'agent', agentId: 'carol', text: 'Carol here' },
      ]);
      // The sender delivered Carol's reply: its tick changes live, with no session change behind it.
      const carols = (await view(CAROL, sessionId)).transcript.find((entry) => entry.text === 'Carol here')!;
      const sent = await stream.next(
        (event) => event.event === 'message.status' && JSON.parse(event.data).messageId === carols.id,
      );
      expect(JSON.parse(sent.data)).toMatchObject({ sessionId, status: 'sent', wamid: expect.any(String) });
      await call(CAROL, 'POST', `/api/sessions/${sessionId}/close`);
      const closed = await stream.next(mine);
      expect([closed.event, JSON.parse(closed.data).state]).toEqual(['session.status', 'closed']);
    } finally {
      stream.close();
    }
  });

  it('replays exactly the missed events, in order, after a reconnect with Last-Event-ID, then goes on live', async () => {
    const first = await openEventStream(baseUrl, ALICE);
    await first.next((event) => event.event === 'ready');
    const { sessionId, waId } = await waitingSession();
    const seen = await first.next(
      (event) => event.event === 'session.waiting' && JSON.parse(event.data).sessionId === sessionId,
    );
    first.close();

    // Missed while disconnected: an assignment, a reply and the status the sender gave it, a customer message;
    // and another workspace's session.
    await call(ALICE, 'POST', `/api/sessions/${sessionId}/takeover`);
    await call(ALICE, 'POST', `/api/sessions/${sessionId}/messages`, { text: 'Back in a minute' });
    await harness.customerSays('acme', ACME_NUMBER, waId, 'ok thanks');
    await waitingSession('human', 'globex');
    await until(async () => {
      const pending = await harness.engine.database.db
        .selectFrom('messages')
        .select('id')
        .where('direction', '=', 'out')
        .where('status', '=', 'pending')
        .execute();
      return pending.length === 0 ? true : undefined;
    }, 'the sender to deliver every reply');
    const missed = await harness.engine.database.db
      .selectFrom('session_events')
      .select('id')
      .where('workspace_id', '=', 'acme')
      .where('id', '>', seen.lastEventId)
      .orderBy('id')
      .execute();
    expect(missed.length).toBeGreaterThanOrEqual(3);

    const second = await openEventStream(baseUrl, ALICE, seen.lastEventId);
    try {
      await second.next((event) => event.event === 'ready');
      const replayed = second.events.filter((event) => event.event !== 'ready');
      expect(replayed.map((event) => event.lastEventId)).toEqual(missed.map((row) => row.id));
      expect(
        replayed.filter((event) => event.event.startsWith('session.')).map((event) => event.event),
      ).toEqual(['session.assigned', 'session.message', 'session.message']);
      const reply = (await view(ALICE, sessionId)).transcript.find(
        (entry) => entry.text === 'Back in a minute',
      )!;
      expect(
        replayed
          .filter((event) => event.event === 'message.status')
          .map((event) => JSON.parse(event.data))
          .filter((data) => data.messageId === reply.id),
      ).toEqual([expect.objectContaining({ sessionId, status: 'sent' })]);
      expect(await second.quiet(100)).toEqual([]);

      await call(ALICE, 'POST', `/api/sessions/${sessionId}/close`);
      const live = await second.next((event) => event.event.startsWith('session.'));
      expect(BigInt(live.lastEventId)).toBeGreaterThan(BigInt(missed.at(-1)!.id));
      expect(await second.quiet(100)).toEqual([]);
    } finally {
      second.close();
    }
  });

  it('refuses a malformed Last-Event-ID with 400', async () => {
    const bad = await fetch(`${baseUrl}/api/events`, {
      headers: { authorization: `Bearer ${ALICE}`, 'last-event-id': 'abc' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('invalid_last_event_id');
  });
});

describe('GET /api/openapi.json', () => {
  it('documents every agent route with its schemas and the bearer token', async () => {
    const response = await harness.engine.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.agentToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    const paths = document.paths;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/api/inbox',
        '/api/sessions/{sessionId}',
        '/api/sessions/{sessionId}/takeover',
        '/api/sessions/{sessionId}/messages',
        '/api/sessions/{sessionId}/release',
        '/api/sessions/{sessionId}/close',
        '/api/events',
        '/api/agents/me/availability',
        '/api/sessions/{sessionId}/templates',
      ]),
    );
    const messages = paths['/api/sessions/{sessionId}/messages'].post;
    expect(messages.requestBody.content['application/json'].schema.properties.text).toMatchObject({
      type: 'string',
      maxLength: 4096,
    });
    expect(Object.keys(messages.responses)).toEqual(expect.arrayContaining(['202', '409', '422']));
    expect(paths['/api/inbox'].get.security).toEqual([{ agentToken: [] }]);
  });
});
