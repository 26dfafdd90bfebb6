import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionContext } from '../../src/machines/session.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';
import { ACME_NUMBER } from '../support/test-config.ts';

/** An engine of the file's own, on a database and transport of its own, for the tests of one describe. */
function useEngine(actors: Parameters<typeof startTestEngine>[0]['actors']) {
  const setup = {} as { database: TestDatabase; transport: TestTransport; harness: TestEngine };
  beforeAll(async () => {
    setup.database = await createTestDatabase();
    setup.transport = await connectTestTransport();
    setup.harness = await startTestEngine({
      database: setup.database,
      transport: setup.transport.transport,
      actors,
    });
  });
  afterAll(async () => {
    await setup.harness?.stop();
    await setup.transport?.close();
    await setup.database?.close();
  });
  return setup;
}

/** What the model-based suite cannot express: bursts, in-flight AI results, passivation, ordering. */
describe('actor host', () => {
  const setup = useEngine({ idleMs: 60_000, maxLiveActors: 3 });
  let database: TestDatabase;
  let harness: TestEngine;
  let customer = 7_000_000;

  beforeAll(() => {
    ({ database, harness } = setup);
  });

  const nextCustomer = () => String(++customer);

  async function session(sessionKey: string) {
    const row = await database.db
      .selectFrom('sessions')
      .selectAll()
      .where('workspace_id', '=', 'acme')
      .where('session_key', '=', sessionKey)
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    return { row, context: (row.snapshot as { context: SessionContext }).context };
  }

  async function outboundBodies(sessionId: string) {
    const rows = await database.db
      .selectFrom('messages')
      .select('body')
      .where('workspace_id', '=', 'acme')
      .where('session_id', '=', sessionId)
      .where('direction', '=', 'out')
      .orderBy('id')
      .execute();
    return rows.map((row) => row.body);
  }

  it('answers a burst of three messages once, with all three in the AI request', async () => {
    const waId = nextCustomer();
    const { engine, agent } = harness;
    // Three webhooks' worth of rows land before the session applies any of them.
    await engine.sessions.recordInbound(
      ['hi', 'my order is late', 'order 1234'].map((text, i) => ({
        workspaceId: 'acme',
        phoneNumberId: ACME_NUMBER,
        customerWaId: waId,
        wamid: `wamid.burst-${waId}-${i}`,
        type: 'text',
        body: text,
        customerName: null,
        payload: {},
        sentAt: harness.clock.now() + i,
      })),
    );
    const address = engine.sessions.addressOf('acme', ACME_NUMBER, waId);
    await engine.host.deliverInbound(address);
    const request = await agent.reply('Sorry about that: order 1234 ships today.');
    await harness.settle();
    expect(request.unanswered.map((message) => message.text)).toEqual([
      'hi',
      'my order is late',
      'order 1234',
    ]);
    expect(agent.waiting).toBe(0);
    const { row } = await session(address.sessionKey);
    expect(await outboundBodies(row.id)).toEqual(['Sorry about that: order 1234 ships today.']);
  });

  it('restarts the AI call when the customer adds a line while it composes, and answers once', async () => {
    const waId = nextCustomer();
    const address = await harness.customerSays('acme', ACME_NUMBER, waId, 'hello');
    const first = await harness.agent.nextCall();
    await harness.customerSays('acme', ACME_NUMBER, waId, 'are you open on sunday?');
    expect(first.signal.aborted).toBe(true);
    const request = await harness.agent.reply('Yes, 10:00 to 16:00.');
    await harness.settle();
    // The aborted call answering late changes nothing.
    first.resolve({ kind: 'reply', text: 'stale answer', confidence: 1, lowConfidence: false, chunks: [] });
    await harness.settle();
    expect(request.unanswered.map((message) => message.text)).toEqual(['hello', 'are you open on sunday?']);
    const { row } = await session(address.sessionKey);
    expect(row.state).toBe('active');
    expect(await outboundBodies(row.id)).toEqual(['Yes, 10:00 to 16:00.']);
  });

  it('keeps the AI silent after a takeover, also for an answer already in flight', async () => {
    const waId = nextCustomer();
    const address = await harness.customerSays('acme', ACME_NUMBER, waId, 'where is my parcel?');
    const inFlight = await harness.agent.nextCall();
    expect(
      await harness.engine.sessions.command(address, { type: 'agent.takeover', agentId: 'alice' }),
    ).toMatchObject({
      ok: true,
      state: 'human',
    });
    inFlight.resolve({
      kind: 'reply',
      text: 'AI answer after takeover',
      confidence: 1,
      lowConfidence: false,
      chunks: [],
    });
    await harness.customerSays('acme', ACME_NUMBER, waId, 'hello?');
    await harness.settle();
    const { row, context } = await session(address.sessionKey);
    expect(row.state).toBe('human');
    expect(harness.agent.waiting).toBe(0);
    expect(await outboundBodies(row.id)).toEqual([]);
    expect(context.history.map((entry) => entry.kind)).toEqual(['customer', 'customer']);
  });

  it('refuses commands the state does not allow and changes nothing', async () => {
    const waId = nextCustomer();
    const address = await harness.customerSays('acme', ACME_NUMBER, waId, 'hi');
    await harness.agent.reply('Hello!');
    await harness.settle();
    const before = await session(address.sessionKey);
    // Releasing or messaging a session nobody took over is refused.
    for (const command of [
      { type: 'agent.release', agentId: 'alice' },
      { type: 'agent.message', agentId: 'alice', text: 'hi' },
    ] as const) {
      expect(await harness.engine.sessions.command(address, command)).toMatchObject({
        ok: false,
        error: 'rejected',
      });
    }
    const after = await session(address.sessionKey);
    expect(after.row.version).toBe(before.row.version);
    const unknown = harness.engine.sessions.addressOf('acme', ACME_NUMBER, '1');
    expect(await harness.engine.sessions.command(unknown, { type: 'agent.close', agentId: 'alice' })).toEqual(
      {
        ok: false,
        error: 'not_found',
      },
    );
  });

  it('refuses an agent message outside the 24-hour window', async () => {
    const waId = nextCustomer();
    const address = await harness.customerSays('acme', ACME_NUMBER, waId, 'human please');
    await harness.agent.fallback('keyword');
    await harness.settle();
    await harness.engine.sessions.command(address, { type: 'agent.takeover', agentId: 'alice' });
    // Twenty minutes on, inside the window (and inside the 30-minute human inactivity timeout).
    await harness.advance(20 * 60_000);
    expect(
      await harness.engine.sessions.command(address, {
        type: 'agent.message',
        agentId: 'alice',
        text: 'Hi!',
      }),
    ).toMatchObject({ ok: true });
    // The window is the customer's: keep the session alive with agent messages past 24 hours.
    for (let minutes = 20; minutes < 24 * 60; minutes += 20) {
      await harness.advance(20 * 60_000);
      await harness.engine.sessions.command(address, {
        type: 'agent.message',
        agentId: 'alice',
        text: 'still here',
      });
    }
    expect(
      await harness.engine.sessions.command(address, {
        type: 'agent.message',
        agentId: 'alice',
        text: 'late',
      }),
    ).toMatchObject({ ok: false, error: 'rejected', state: 'human' });
  });

  it('starts a new session when a customer writes after a close', async () => {
    const waId = nextCustomer();
    const address = await harness.customerSays('acme', ACME_NUMBER, waId, 'hi');
    await harness.agent.reply('Hello!');
    await harness.settle();
    const first = await session(address.sessionKey);
    await harness.engine.sessions.command(address, { type: 'agent.close', agentId: 'alice' });
    await harness.advance(1_000);
    await harness.customerSays('acme', ACME_NUMBER, waId, 'me again');
    const second = await session(address.sessionKey);
    expect(second.row.id).not.toBe(first.row.id);
    expect(second.row.state).toBe('ai_responding');
    expect(second.context.history).toMatchObject([{ kind: 'customer', text: 'me again' }]);
    await harness.agent.reply('Welcome back.');
    await harness.settle();
  });

  it('passivates the least recently used idle actors as a new one starts beyond the live limit, and rehydrates them', async () => {
    const { engine, agent } = harness;
    await harness.advance(61_000);
    engine.host.passivateIdle();
    expect(engine.host.liveActors).toBe(0);
    const addresses = [];
    for (let i = 0; i < 5; i++) {
      const address = await harness.customerSays('acme', ACME_NUMBER, nextCustomer(), `hello ${i}`);
      await agent.reply(`hi ${i}`);
      await harness.settle();
      addresses.push(address);
      // Limit three, without waiting for a sweep: the least recently used go as the fourth and fifth start.
      expect(engine.host.liveActors).toBe(Math.min(i + 1, 3));
    }
    expect(engine.host.liveSnapshot(addresses[0]!)).toBeUndefined();
    expect(engine.host.liveSnapshot(addresses[1]!)).toBeUndefined();
    expect(engine.host.liveSnapshot(addresses[4]!)?.value).toBe('active');
    expect(engine.host.passivateIdle()).toBe(0);
    // Past the idle time every one goes.
    await harness.advance(61_000);
    engine.host.passivateIdle();
    expect(engine.host.liveActors).toBe(0);

    const rehydrationsBefore = await metric('botrelic_rehydrations_total');
    await harness.customerSays('acme', ACME_NUMBER, String(customer - 4), 'back again');
    expect(engine.host.liveSnapshot(addresses[0]!)?.context.history.map((entry) => entry.kind)).toEqual([
      'customer',
      'ai',
      'customer',
    ]);
    expect((await metric('botrelic_rehydrations_total')) - rehydrationsBefore).toBe(1);
    await agent.reply('welcome back');
    await harness.settle();
  });

  it('keeps actors whose AI is composing live beyond the limit, and passivates idle ones when the next starts', async () => {
    const { engine, agent } = harness;
    await harness.advance(61_000);
    engine.host.passivateIdle();
    const composing = [];
    for (let i = 0; i < 4; i++) {
      composing.push(await harness.customerSays('acme', ACME_NUMBER, nextCustomer(), `question ${i}`));
    }
    // Four composing, limit three: none of them is idle, so none is stopped mid-answer.
    expect(engine.host.liveActors).toBe(4);
    expect(composing.every((address) => engine.host.liveSnapshot(address)?.value === 'ai_responding')).toBe(
      true,
    );
    for (let i = 0; i < 4; i++) await agent.reply(`answer ${i}`);
    await harness.settle();
    expect(engine.host.liveActors).toBe(4);
    await harness.customerSays('acme', ACME_NUMBER, nextCustomer(), 'one more');
    // The fifth starts: the two least recently used idle ones go, the newcomer stays.
    expect(engine.host.liveActors).toBe(3);
    await agent.reply('welcome');
    await harness.settle();
  });

  it('applies a session key’s events one at a time, in arrival order', async () => {
    const waId = nextCustomer();
    const address = await harness.customerSays('acme', ACME_NUMBER, waId, 'human');
    await harness.agent.fallback('keyword');
    await harness.settle();
    // Fired without waiting: the mailbox must apply them in this order, each on the previous state.
    const results = await Promise.all([
      harness.engine.host.command(address, { type: 'agent.takeover', agentId: 'alice' }),
      harness.engine.host.command(address, { type: 'agent.message', agentId: 'alice', text: 'one' }),
      harness.engine.host.command(address, { type: 'agent.message', agentId: 'alice', text: 'two' }),
      harness.engine.host.command(address, { type: 'agent.release', agentId: 'alice' }),
    ]);
    expect(results.map((result) => (result.ok ? result.version : result.error))).toEqual([3, 4, 5, 6]);
    const { row } = await session(address.sessionKey);
    expect(await outboundBodies(row.id)).toEqual(['Let me connect you with our team.', 'one', 'two']);
    expect(row.state).toBe('active');
  });

  it('counts events, transitions, persist latency and mailbox depth in /metrics', async () => {
    const response = await harness.engine.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/botrelic_session_events_applied_total\{type="customer.message"\} \d+/);
    expect(response.body).toMatch(
      /botrelic_session_transitions_total\{from="ai_responding",to="active"\} \d+/,
    );
    expect(response.body).toMatch(/botrelic_persist_seconds_count \d+/);
    expect(response.body).toMatch(/botrelic_mailbox_depth 0/);
    expect(response.body).toMatch(/botrelic_live_actors \d+/);
    expect(response.body).toMatch(/botrelic_live_sessions\{state="active"\} [1-9]/);
    expect(response.body).not.toMatch(/botrelic_live_sessions\{state="[a-z_]+"\} -/);
  });

  async function metric(name: string): Promise<number> {
    const values = (await harness.engine.registry.getSingleMetric(name)!.get()).values;
    return values.reduce((sum, value) => sum + value.value, 0);
  }
});

/** The reply window: an answer that comes while the job that asked for it waits is committed with the message. */
describe('actor host, answers within the reply window', () => {
  const WINDOW_MS = 400;
  const setup = useEngine({ replyWindowMs: WINDOW_MS });
  let database: TestDatabase;
  let harness: TestEngine;
  let customer = 7_100_000;

  beforeAll(() => {
    ({ database, harness } = setup);
  });

  async function writes(sessionKey: string) {
    const row = await database.db
      .selectFrom('sessions')
      .select(['id', 'state', 'version', 'snapshot'])
      .where('workspace_id', '=', 'acme')
      .where('session_key', '=', sessionKey)
      .executeTakeFirstOrThrow();
    const events = await database.db
      .selectFrom('session_events')
      .select('payload')
      .where('session_id', '=', row.id)
      .orderBy('id')
      .execute();
    const outbound = await database.db
      .selectFrom('messages')
      .select('body')
      .where('session_id', '=', row.id)
      .where('direction', '=', 'out')
      .execute();
    return {
      row,
      history: (row.snapshot as { context: SessionContext }).context.history.map((entry) => entry.kind),
      // Session updates, not the delivery statuses of the replies.
      states: events
        .map((event) => event.payload as { type: string; state: string })
        .filter((event) => event.type === 'session.updated')
        .map((event) => event.state),
      outbound: outbound.map((message) => message.body),
    };
  }

  it('commits a quick answer with the message it answers: one write, one live event', async () => {
    const waId = String(++customer);
    const saying = harness.customerSays('acme', ACME_NUMBER, waId, 'are you open today?');
    const request = await harness.agent.reply('Yes, until 18:00.');
    const address = await saying;
    expect(request.unanswered.map((message) => message.text)).toEqual(['are you open today?']);
    expect(await writes(address.sessionKey)).toMatchObject({
      row: { state: 'active', version: 1 },
      history: ['customer', 'ai'],
      states: ['active'],
      outbound: ['Yes, until 18:00.'],
    });
  });

  it('commits `ai_responding` first when the answer takes longer than the window, then the answer', async () => {
    const waId = String(++customer);
    const saying = harness.customerSays('acme', ACME_NUMBER, waId, 'can I change my order?');
    const call = await harness.agent.nextCall();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 100));
    call.resolve({
      kind: 'reply',
      text: 'Yes, within an hour.',
      confidence: 0.9,
      lowConfidence: false,
      chunks: [],
    });
    const address = await saying;
    await harness.settle();
    expect(await writes(address.sessionKey)).toMatchObject({
      row: { state: 'active', version: 2 },
      history: ['customer', 'ai'],
      states: ['ai_responding', 'active'],
      outbound: ['Yes, within an hour.'],
    });
  });

  it('commits a quick fallback with the message too, and the handoff goes out once', async () => {
    const waId = String(++customer);
    const saying = harness.customerSays('acme', ACME_NUMBER, waId, 'I want a person');
    await harness.agent.fallback('keyword');
    const address = await saying;
    const { row, states, outbound } = await writes(address.sessionKey);
    expect(row).toMatchObject({ state: 'fallback', version: 1 });
    expect(states).toEqual(['fallback']);
    expect(outbound).toEqual(['Let me connect you with our team.']);
  });
});
