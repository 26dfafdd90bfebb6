import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { sessionSettingsFor } from '../../src/actors/session-settings.ts';
import { type SessionContext, type SessionEvent, sessionMachine } from '../../src/machines/session.ts';
import type { SessionAddress } from '../../src/persistence/session-store.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { connectTestTransport } from '../support/services.ts';
import { ACME_NUMBER, testConfig } from '../support/test-config.ts';

/**
 * Model-based: xstate/graph walks the session machine and yields paths of events; every path runs
 * against the real actor host with real persistence (Postgres or PGlite), a manual clock for timeouts,
 * and passivation between steps, and after each step the stored session must match the model.
 */
const config = testConfig();
const settings = sessionSettingsFor(config.workspaces[0]!);
const FAR_FUTURE = Number.MAX_SAFE_INTEGER;

const modelEvents: SessionEvent[] = [
  { type: 'customer.message', at: 0, message: { wamid: 'm', type: 'text', text: 'hello', sentAt: 0 } },
  { type: 'ai.replied', at: 0, text: 'Here you go.', confidence: 0.9, lowConfidence: false, chunks: [] },
  { type: 'ai.replied', at: 0, text: 'Maybe this?', confidence: 0.6, lowConfidence: true, chunks: [] },
  { type: 'ai.fallback', at: 0, reason: 'keyword', evidence: { keyword: 'human' } },
  { type: 'agent.takeover', at: 0, agentId: 'alice' },
  { type: 'agent.message', at: 0, agentId: 'alice', text: 'Hi, Alice here.' },
  {
    type: 'agent.template',
    at: 0,
    agentId: 'alice',
    template: { name: 'follow_up', language: 'en_US' },
  },
  { type: 'agent.release', at: 0, agentId: 'alice' },
  { type: 'agent.close', at: 0, agentId: 'alice' },
  {
    type: 'message.status',
    at: 0,
    wamid: 'wamid.out',
    status: 'failed',
    error: { code: 131026, title: 'Undeliverable' },
  },
  { type: 'session.timeout', at: FAR_FUTURE },
];

/**
 * What distinguishes two model states. Shortest paths use the fine view (down to the last history
 * entry, so self-transitions such as a customer writing while waiting are states of their own);
 * simple paths use the coarse one, since the fine one has hundreds of thousands of simple paths.
 */
function coarseState(snapshot: { value: unknown; context: SessionContext }): string {
  const { context } = snapshot;
  return JSON.stringify([
    snapshot.value,
    context.lowConfidenceStreak,
    context.handoff?.customerNotifiedAt != null,
    context.handoff?.agentId ?? null,
    context.handoff?.reason ?? null,
    context.timer?.kind ?? null,
    context.closedReason,
  ]);
}

function fineState(snapshot: { value: unknown; context: SessionContext }): string {
  const { context } = snapshot;
  const last = context.history.at(-1);
  return JSON.stringify([
    coarseState(snapshot),
    last?.kind ?? null,
    // An agent's template and their free-form reply leave different sessions behind.
    last?.kind === 'agent' && last.template !== undefined,
    Math.min(context.unanswered.length, 2),
  ]);
}

/**
 * Paths come from the graph tools directly: `createTestModel` refuses machines that invoke actors,
 * and the session's AI call is an invoked actor (played here by the scripted agent).
 */
function pathsFor(onHandoffTimeout: 'keep_waiting' | 'close') {
  const options = {
    input: {
      sessionId: 'model',
      workspaceId: 'acme',
      phoneNumberId: ACME_NUMBER,
      customer: { waId: '0', name: null },
      settings: { ...settings, onHandoffTimeout },
      startedAt: 0,
    },
    events: modelEvents,
    // A session comes to be with its first customer message; before that there is nothing to command,
    // and a closed session takes no more events (the customer's next message starts a new one).
    filterEvents: (snapshot: { context: SessionContext; status: string }, event: SessionEvent) =>
      snapshot.status === 'active' &&
      (snapshot.context.history.length > 0 || event.type === 'customer.message'),
  };
  return {
    shortest: getShortestPaths(sessionMachine, {
      ...options,
      serializeState: (snapshot: unknown) => fineState(snapshot as never),
    }),
    simple: getSimplePaths(sessionMachine, {
      ...options,
      serializeState: (snapshot: unknown) => coarseState(snapshot as never),
      toState: (snapshot) => snapshot.status === 'done',
    }),
  };
}

/** Kinds of history entries that come with an outbound message. */
const SENDING_ENTRIES = new Set(['ai', 'fallback', 'agent', 'system']);

const covered = new Set<string>();
let pathsRun = 0;

describe.each(['keep_waiting', 'close'] as const)(
  'session machine, model-based, on the real actor host (onHandoffTimeout=%s)',
  (onHandoffTimeout) => {
    let harness: TestEngine;
    let closeHarness: () => Promise<void>;
    let customer = 1000;

    beforeAll(async () => {
      const database = await createTestDatabase();
      const transport = await connectTestTransport();
      harness = await startTestEngine({
        database,
        transport: transport.transport,
        config: testConfig({ onHandoffTimeout }),
        // Every sweep passivates every idle actor, so steps keep crossing the store.
        actors: { idleMs: 0 },
      });
      closeHarness = async () => {
        await harness.stop();
        await transport.close();
        await database.close();
      };
    });

    afterAll(async () => {
      await closeHarness?.();
    });

    async function storedSession(address: SessionAddress, sessionId: string) {
      const row = await harness.engine.database.db
        .selectFrom('sessions')
        .selectAll()
        .where('workspace_id', '=', address.workspaceId)
        .where('id', '=', sessionId)
        .executeTakeFirstOrThrow();
      const outbound = await harness.engine.database.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('workspace_id', '=', address.workspaceId)
        .where('session_id', '=', sessionId)
        .executeTakeFirstOrThrow();
      return { row, outbound: Number(outbound.count) };
    }

    async function execute(
      event: SessionEvent,
      address: SessionAddress,
      waId: string,
      step: number,
      where: string,
    ) {
      const { engine, agent } = harness;
      switch (event.type) {
        case 'customer.message':
          await harness.customerSays('acme', ACME_NUMBER, waId, `message ${step}`);
          return;
        case 'ai.replied':
          await agent.reply(event.text, event.confidence, event.lowConfidence);
          await harness.settle();
          return;
        case 'ai.fallback':
          await agent.fallback('keyword');
          await harness.settle();
          return;
        case 'session.timeout': {
          const row = await engine.database.db
            .selectFrom('sessions')
            .select('next_deadline_at')
            .where('workspace_id', '=', 'acme')
            .where('session_key', '=', address.sessionKey)
            .where('closed_at', 'is', null)
            .executeTakeFirstOrThrow();
          await harness.advance(row.next_deadline_at!.getTime() - harness.clock.now());
          return;
        }
        default: {
          const { at: _at, ...command } = event;
          const result = await engine.sessions.command(address, command);
          expect(result, `${where}: must be accepted`).toMatchObject({ ok: true });
          await harness.settle();
        }
      }
    }

    type ModelState = { value: unknown; context: SessionContext };
    async function runPath(
      path: { steps: { event: SessionEvent; state: ModelState }[] },
      view: (snapshot: ModelState) => string,
    ) {
      const waId = String(++customer);
      const address = harness.engine.sessions.addressOf('acme', ACME_NUMBER, waId);
      let sessionId: string | undefined;
      for (const [index, { event, state }] of path.steps.entries()) {
        if (event.type === ('xstate.init' as string)) continue;
        const before = sessionId ? (await storedSession(address, sessionId)).row.state : 'active';
        const where = `step ${index} (${event.type}) of ${path.steps.map((s) => s.event.type).join(' → ')}`;
        await execute(event, address, waId, index, where);
        sessionId ??= (
          await harness.engine.database.db
            .selectFrom('sessions')
            .select('id')
            .where('workspace_id', '=', 'acme')
            .where('session_key', '=', address.sessionKey)
            .executeTakeFirstOrThrow()
        ).id;
        covered.add(`${before} ${event.type}`);
        const { row, outbound } = await storedSession(address, sessionId);
        const stored = row.snapshot as { context: SessionContext; value: unknown };
        expect(row.state, where).toBe(state.value);
        // The model state is an abstraction (see fineState): compare what it distinguishes, exactly.
        expect(view(stored), where).toBe(view(state));
        expect(row.closed_at !== null, where).toBe(state.value === 'closed');
        expect(row.next_deadline_at?.getTime() ?? null, where).toBe(stored.context.timer?.at ?? null);
        // Every outbound message the stored history speaks of is in the outbox, and nothing else.
        expect(outbound, where).toBe(
          stored.context.history.filter((entry) => SENDING_ENTRIES.has(entry.kind)).length,
        );
        // What is live in memory (if anything) is exactly what is stored.
        const live = harness.engine.host.liveSnapshot(address);
        if (live && live.context.sessionId === sessionId) expect(live.value, where).toBe(row.state);
        // Passivate between steps so the next one rehydrates from the store.
        if (index % 2 === 1) harness.engine.host.passivateIdle();
      }
      if (sessionId && (await storedSession(address, sessionId)).row.state !== 'closed') {
        await harness.engine.sessions.command(address, { type: 'agent.close', agentId: 'alice' });
        await harness.settle();
      }
      pathsRun++;
    }

    const { shortest, simple } = pathsFor(onHandoffTimeout);

    it('reaches every state by its shortest path', async () => {
      expect(shortest.length).toBeGreaterThan(5);
      for (const path of shortest) await runPath(path as never, fineState);
    }, 180_000);

    it('runs every simple path to a close', async () => {
      expect(simple.length).toBeGreaterThan(20);
      for (const path of simple) await runPath(path as never, coarseState);
    }, 180_000);
  },
);

describe('model-based coverage', () => {
  afterAll(() => {
    console.log(`model-based: ran ${pathsRun} paths covering ${covered.size} state/event transitions`);
  });

  it('covered every state and every event type of the machine', () => {
    const states = Object.keys(sessionMachine.root.states);
    const eventTypes = new Set(modelEvents.map((event) => event.type));
    for (const state of states.filter((s) => s !== 'closed')) {
      expect(
        [...covered].some((key) => key.startsWith(`${state} `)),
        `state ${state}`,
      ).toBe(true);
    }
    for (const type of eventTypes) {
      expect(
        [...covered].some((key) => key.endsWith(` ${type}`)),
        `event ${type}`,
      ).toBe(true);
    }
    // Every transition the machine declares was taken at least once.
    for (const state of states) {
      const node = sessionMachine.root.states[state]!;
      for (const eventType of node.transitions.keys()) {
        if (eventType === 'message.status' && state === 'closed') continue;
        expect(covered.has(`${state} ${eventType}`), `${state} on ${eventType}`).toBe(true);
      }
    }
  });
});
