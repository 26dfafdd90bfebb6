import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAdjacencyMap, getShortestPaths, getSimplePaths } from 'xstate/graph';
import { sessionSettingsFor } from '../../src/actors/session-settings.ts';
import { type SessionContext, type SessionEvent, sessionMachine } from '../../src/machines/session.ts';
import { sessionMachineEdges } from '../../src/machines/session-diagram.ts';
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
/** How old a stale message is when it arrives: past the engine's stale age, within any one path's time. */
const STALE_AGE_MS = 3 * 60 * 60_000;

const modelEvents: SessionEvent[] = [
  { type: 'customer.message', at: 0, message: { wamid: 'm', type: 'text', text: 'hello', sentAt: 0 } },
  // Meta catching up after an outage. In the model every reply is at 0, so any reply counts as answering it;
  // on the host the message was sent three hours ago and a path spans less than that, so it does too.
  {
    type: 'customer.message',
    at: 0,
    message: { wamid: 'late', type: 'text', text: 'sent long ago', sentAt: 0, stale: true },
  },
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
  // Sent at the state's deadline (see `eventsIn`), as the host's sweeper would.
  { type: 'session.timeout', at: 0 },
];

/**
 * The events offered in a model state. A timeout comes exactly at the current deadline: one sent "far in the
 * future" would leave a deadline armed by the timeout itself (the inactivity that follows the wait notice)
 * forever out of reach.
 */
function eventsIn(snapshot: { context: SessionContext }): SessionEvent[] {
  const deadline = snapshot.context.timer?.at ?? 0;
  return modelEvents.map((event) => (event.type === 'session.timeout' ? { ...event, at: deadline } : event));
}

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

function isStale(event: SessionEvent): boolean {
  return event.type === 'customer.message' && event.message.stale === true;
}

/** Kinds of history entries that come with an outbound message. */
const SENDING_ENTRIES = new Set(['ai', 'fallback', 'agent', 'system']);

/** Every transition of the machine in every state it can be taken in (the diagram's edges). */
const edges = sessionMachineEdges();
/** Transitions no path can take, each with the reason; everything else must be walked. */
const NOT_EXPRESSIBLE = new Map<string, string>();

type ModelState = { value: unknown; context: SessionContext };
type ModelStep = { event: SessionEvent; state: ModelState };
type ModelPath = { state: ModelState; steps: ModelStep[] };
/** getAdjacencyMap's result, in the model's terms: every reached state and where each event takes it. */
type Adjacency = Record<string, { state: ModelState; transitions: Record<string, ModelStep> }>;

/** The edges the model took from `before` on `event` (none when the event changes nothing). */
function edgesTaken(before: ModelState, event: SessionEvent): string[] {
  const transitions = sessionMachine.getTransitionData(before as never, event);
  return edges
    .filter((edge) => edge.state.key === before.value && transitions.includes(edge.transition))
    .map((edge) => edge.label);
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
    events: (snapshot: { context: SessionContext }) => eventsIn(snapshot),
    // A session comes to be with its first customer message; before that there is nothing to command,
    // and a closed session takes no more events (the customer's next message starts a new one).
    filterEvents: (
      snapshot: { value: unknown; context: SessionContext; status: string },
      event: SessionEvent,
    ) =>
      snapshot.status === 'active' &&
      (snapshot.context.history.length > 0 || event.type === 'customer.message') &&
      // A late message only where it can be one that was answered since: elsewhere it is any other message.
      (!isStale(event) || (snapshot.value === 'active' && snapshot.context.history.length > 0)),
  };
  const fine = { ...options, serializeState: (snapshot: unknown) => fineState(snapshot as never) };
  const shortest = getShortestPaths(sessionMachine, fine);
  return {
    shortest,
    simple: getSimplePaths(sessionMachine, {
      ...options,
      serializeState: (snapshot: unknown) => coarseState(snapshot as never),
      toState: (snapshot) => snapshot.status === 'done',
    }),
    transitions: transitionPaths(
      shortest as unknown as ModelPath[],
      getAdjacencyMap(sessionMachine, fine) as unknown as Adjacency,
    ),
  };
}

/**
 * Shortest paths reach every state, not every transition: a transition into a state reached another way is
 * on none of them. For each transition they miss, one more path: the shortest path to a state where the
 * model takes it, then that step.
 */
function transitionPaths(shortest: ModelPath[], adjacency: Adjacency): ModelPath[] {
  const toState = new Map(shortest.map((path) => [fineState(path.state), path]));
  const taken = new Set(
    shortest.flatMap((path) =>
      path.steps.slice(1).flatMap((step, index) => edgesTaken(path.steps[index]!.state, step.event)),
    ),
  );
  const paths: ModelPath[] = [];
  for (const { state, transitions } of Object.values(adjacency)) {
    const path = toState.get(fineState(state));
    if (!path) continue;
    for (const { event, state: next } of Object.values(transitions)) {
      const labels = edgesTaken(state, event).filter((label) => !taken.has(label));
      if (labels.length === 0) continue;
      for (const label of labels) taken.add(label);
      paths.push({ state: next, steps: [...path.steps, { event, state: next }] });
    }
  }
  return paths;
}

const walked = new Set<string>();
const eventsApplied = new Set<string>();
/** Paths run on the host, by where they came from. */
const pathsRun = { shortest: 0, simple: 0, transition: 0 };

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
        case 'customer.message': {
          if (!isStale(event)) {
            await harness.customerSays('acme', ACME_NUMBER, waId, `message ${step}`);
            return;
          }
          const now = harness.clock.now();
          const wamid = `wamid.late-${waId}-${step}`;
          await engine.sessions.recordInbound([
            {
              workspaceId: 'acme',
              phoneNumberId: ACME_NUMBER,
              customerWaId: waId,
              wamid,
              type: 'text',
              body: `late message ${step}`,
              customerName: null,
              payload: { from: waId, id: wamid, type: 'text', text: { body: `late message ${step}` } },
              sentAt: now - STALE_AGE_MS,
              receivedAt: now,
            },
          ]);
          await engine.host.deliverInbound(address);
          await harness.settle();
          return;
        }
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

    async function runPath(
      path: ModelPath,
      view: (snapshot: ModelState) => string,
      kind: keyof typeof pathsRun,
    ) {
      const waId = String(++customer);
      const address = harness.engine.sessions.addressOf('acme', ACME_NUMBER, waId);
      let sessionId: string | undefined;
      for (const [index, { event, state }] of path.steps.entries()) {
        if (event.type === ('xstate.init' as string)) continue;
        const taken = edgesTaken(path.steps[index - 1]!.state, event);
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
        for (const label of taken) walked.add(label);
        eventsApplied.add(event.type);
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
      pathsRun[kind]++;
    }

    const { shortest, simple, transitions } = pathsFor(onHandoffTimeout);

    it('reaches every state by its shortest path', async () => {
      expect(shortest.length).toBeGreaterThan(5);
      for (const path of shortest) await runPath(path as never, fineState, 'shortest');
    }, 180_000);

    it('runs every simple path to a close', async () => {
      expect(simple.length).toBeGreaterThan(20);
      for (const path of simple) await runPath(path as never, coarseState, 'simple');
    }, 180_000);

    it('takes every transition the shortest paths miss', async () => {
      for (const path of transitions) await runPath(path, fineState, 'transition');
    }, 180_000);
  },
);

describe('model-based coverage', () => {
  afterAll(() => {
    console.log(
      `model-based: ran ${pathsRun.shortest + pathsRun.simple + pathsRun.transition} paths (${pathsRun.shortest} shortest, ${pathsRun.simple} simple, ${pathsRun.transition} for transitions the shortest missed), walking ${walked.size} of ${edges.length} transitions (${NOT_EXPRESSIBLE.size} not expressible)`,
    );
  });

  it('models every event the machine accepts, and applied each on the host', () => {
    // The machine's own list, so an event added to the machine and not to the model fails here.
    const machineEvents = sessionMachine.root.events.filter((type) => !type.startsWith('xstate.'));
    const modelled = new Set<string>(modelEvents.map((event) => event.type));
    expect(
      machineEvents.filter((type) => !modelled.has(type)),
      'events the model does not send',
    ).toEqual([]);
    expect(
      machineEvents.filter((type) => !eventsApplied.has(type)),
      'events no path applied',
    ).toEqual([]);
  });

  it('walked every transition of the machine, guarded ones included, in every state it applies to', () => {
    for (const label of NOT_EXPRESSIBLE.keys()) {
      expect(
        edges.some((edge) => edge.label === label),
        `not expressible, yet not a transition: ${label}`,
      ).toBe(true);
    }
    const missed = edges
      .map((edge) => edge.label)
      .filter((label) => !walked.has(label) && !NOT_EXPRESSIBLE.has(label));
    expect(missed, 'transitions no path took (walk them, or list them in NOT_EXPRESSIBLE with why)').toEqual(
      [],
    );
  });
});
