import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { type Actor, assign, createActor, fromCallback, type InspectionEvent } from 'xstate';
import type { ReplyAgent, ReplyOutcome } from '../ai/reply-agent.ts';
import type { Clock, TimerHandle } from '../clock/clock.ts';
import {
  type HandoffRouting,
  type HistoryEntry,
  type ReplyRequest,
  SESSION_MACHINE_VERSION,
  type SendParams,
  type SessionEvent,
  type SessionMachine,
  type SessionMachineSettings,
  sessionMachine,
} from '../machines/session.ts';
import { migrateSessionSnapshot } from '../machines/session-snapshot.ts';
import {
  type InboundMessage,
  type OutboundIntent,
  type SessionAddress,
  type SessionStore,
  StaleSessionError,
  type StoredSession,
} from '../persistence/session-store.ts';
import type { Transport } from '../transport/transport.ts';
import type { TypingIndicator } from '../whatsapp/typing-indicator.ts';
import type { HandoffRule } from './handoff-routing.ts';
import { routeHandoff } from './handoff-routing.ts';
import type { HostMetrics } from './host-metrics.ts';
import { toCustomerMessage } from './inbound-event.ts';
import { Mailbox } from './mailbox.ts';
import { publishSessionNotice, type SessionNotice } from './session-notice.ts';

type CommandType =
  | 'agent.takeover'
  | 'agent.message'
  | 'agent.template'
  | 'agent.release'
  | 'agent.close'
  | 'message.status'
  | 'session.timeout';
type WithoutAt<E> = E extends SessionEvent ? Omit<E, 'at'> : never;

/**
 * Commands from human agents, delivery statuses and timers, addressed to a session. The host stamps `at`.
 * With `sessionId`, the command is for that session only: one meant for a session that has closed in the
 * meantime must not reach the customer's next session under the same key.
 */
export type SessionCommand = (
  | WithoutAt<Extract<SessionEvent, { type: CommandType }>>
  /** The sandbox's "advance the clock": the session's pending timeout, delivered now with `at` = its deadline. */
  | { type: 'session.advance' }
) & { sessionId?: string };

export type CommandResult =
  | { ok: true; sessionId: string; state: string; version: number }
  | { ok: false; error: 'not_found' }
  | { ok: false; error: 'rejected'; sessionId: string; state: string };

export interface ActorHostOptions {
  store: SessionStore;
  transport: Transport;
  clock: Clock;
  replyAgent: ReplyAgent;
  logger: Logger;
  metrics: HostMetrics;
  /** Per workspace: the settings a new session starts with. Unknown workspaces are refused. */
  settingsFor(workspaceId: string): SessionMachineSettings | undefined;
  /**
   * Per workspace: which team a fallback goes to (handoff-routing.ts), applied whenever a session enters
   * `fallback`, whoever decided it (the AI agent, the AI timeout, the low-confidence backstop); none means the
   * default team.
   */
  handoffRulesFor?(workspaceId: string): readonly HandoffRule[] | undefined;
  /** Inbound messages that reached the gateway this long after Meta's timestamp are stale (toCustomerMessage). */
  staleMessageAgeMs?: number;
  /** Live actors idle this long are passivated (stopped; their state is already in the store). */
  idleMs: number;
  /** Starting an actor beyond this passivates the least recently used idle ones; the sweep enforces it too. */
  maxLiveActors: number;
  inspect?: (event: InspectionEvent) => void;
  /** Called after a commit that wrote outbound intents: the sender delivers them without waiting for its poll. */
  onOutbound?: () => void;
  /** Shows the customer "typing…" while the AI composes; called after the commit that entered `ai_responding`. */
  typing?: TypingIndicator;
  /**
   * How long the job that started an AI call waits for its answer before committing (real milliseconds, not
   * the session clock). An answer within it is committed together with the customer's messages: one write and
   * one live event instead of two, which is most of the session writes with the offline agent. A slower
   * answer (a language model) is committed on its own when it comes, as without the wait. Default 25; 0 off.
   */
  replyWindowMs?: number;
}

type SessionActor = Actor<SessionMachine>;

/** One AI call of a session: cancelled once the session left that `ai_responding`, settled once it answered. */
interface ReplyInvocation {
  cancelled: boolean;
  settled: boolean;
  /** What the AI decided, once the call ends. */
  outcome: Promise<ReplyOutcome>;
}

interface Cell {
  address: SessionAddress;
  mailbox: Mailbox;
  /** A child logger carrying the session's workspace and key; bodies and secrets are never logged. */
  log: Logger;
  live?: {
    actor: SessionActor;
    record: StoredSession;
    effects: SendParams[];
    timer?: TimerHandle;
    /** The customer message to show "typing…" for once the transition is committed. */
    typingFor?: string;
    /** The AI call of the current `ai_responding`, if any. */
    reply?: ReplyInvocation;
  };
  lastActivity: number;
}

const MAX_STALE_RETRIES = 5;
const DEFAULT_REPLY_WINDOW_MS = 25;

/**
 * Hosts session actors: one mailbox per session key, so a session's events apply one at a time in
 * arrival order; every job's transitions are persisted (snapshot + applied inbound rows + outbox) in one
 * version-checked transaction before anything else happens to that session.
 */
export class ActorHost {
  readonly #options: ActorHostOptions;
  readonly #cells = new Map<string, Cell>();
  readonly #cellsBySessionId = new Map<string, Cell>();
  readonly #machine: SessionMachine;
  #stopping = false;
  #liveCount = 0;

  constructor(options: ActorHostOptions) {
    this.#options = options;
    this.#machine = sessionMachine.provide({
      actions: {
        send: ({ context }, params) => {
          this.#cellsBySessionId.get(context.sessionId)?.live?.effects.push(params);
        },
        indicateTyping: ({ context }) => {
          const live = this.#cellsBySessionId.get(context.sessionId)?.live;
          // A burst re-enters `ai_responding` once per message: the newest one wins, shown once per commit.
          if (live) live.typingFor = context.unanswered.at(-1)?.wamid;
        },
        routeHandoff: assign(({ context }, routing: HandoffRouting) => {
          const rules = this.#options.handoffRulesFor?.(context.workspaceId) ?? [];
          const teamId = routeHandoff(rules, routing, routing.messages);
          return teamId === undefined || !context.handoff ? {} : { handoff: { ...context.handoff, teamId } };
        }),
      },
      actors: {
        generateReply: fromCallback<SessionEvent, ReplyRequest>(({ input }) => this.#startReply(input)),
      },
    });
  }

  get liveActors(): number {
    return this.#liveCount;
  }

  /** Inbound rows were committed for this session key: apply every pending one. */
  deliverInbound(address: SessionAddress): Promise<void> {
    return this.#post(address, () => this.#applyPendingInbound(address));
  }

  /** A command for the open session of this key; refused commands change nothing. */
  command(address: SessionAddress, command: SessionCommand): Promise<CommandResult> {
    return this.#post(address, () => this.#applyCommand(address, command));
  }

  /** Fires the stored deadline of this key's open session if it is due (sweeper and in-memory timers). */
  fireTimeout(address: SessionAddress): Promise<void> {
    return this.#post(address, async () => {
      await this.#applyCommand(address, { type: 'session.timeout' });
    });
  }

  /** Loads the key's open session into memory, restarting whatever it was doing (an AI call). */
  wake(address: SessionAddress): Promise<void> {
    return this.#post(address, async () => {
      await this.#load(this.#cellOf(address));
    });
  }

  /** Stops actors idle past `idleMs`, then the least recently used beyond `maxLiveActors`. */
  passivateIdle(): number {
    const passivated = this.#passivate(this.#options.idleMs);
    // A mailbox with no actor and no work is only a map entry: drop it (closed, passivated, not found).
    for (const [id, cell] of this.#cells) if (!cell.live && cell.mailbox.depth === 0) this.#cells.delete(id);
    return passivated;
  }

  /**
   * Passivates actors idle for `idleMs`, and then the least recently used idle ones while more than
   * `maxLiveActors` are live. An actor with work queued or an AI call running is never idle.
   */
  #passivate(idleMs: number): number {
    const now = this.#options.clock.now();
    const candidates = [...this.#cells.values()]
      .filter(
        (cell) =>
          cell.live && cell.mailbox.depth === 0 && cell.live.actor.getSnapshot().value !== 'ai_responding',
      )
      .sort((a, b) => a.lastActivity - b.lastActivity);
    let excess = this.liveActors - this.#options.maxLiveActors;
    let passivated = 0;
    for (const cell of candidates) {
      if (now - cell.lastActivity < idleMs && excess <= 0) break;
      this.#release(cell);
      excess--;
      passivated++;
    }
    if (passivated > 0) this.#options.metrics.passivations.inc(passivated);
    return passivated;
  }

  /** Lets every queued job finish, then stops all actors. Their state is already persisted. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#cells.values()].map((cell) => cell.mailbox.idle()));
    for (const cell of this.#cells.values()) this.#release(cell);
    this.#cells.clear();
  }

  /** Resolves when every mailbox is empty (tests and graceful shutdown). */
  async settle(): Promise<void> {
    for (;;) {
      const busy = [...this.#cells.values()].filter((cell) => cell.mailbox.depth > 0);
      if (busy.length === 0) return;
      await Promise.all(busy.map((cell) => cell.mailbox.idle()));
    }
  }

  /** The snapshot of a live actor, for inspection; undefined when passivated. */
  liveSnapshot(address: SessionAddress) {
    return this.#cells.get(cellId(address))?.live?.actor.getSnapshot();
  }

  #post<T>(address: SessionAddress, job: () => Promise<T>): Promise<T> {
    if (this.#stopping) return Promise.reject(new Error('actor host is stopping'));
    const id = cellId(address);
    let cell = this.#cells.get(id);
    if (!cell) {
      cell = {
        address,
        mailbox: new Mailbox(),
        log: this.#options.logger.child({ workspaceId: address.workspaceId, sessionKey: address.sessionKey }),
        lastActivity: this.#options.clock.now(),
      };
      this.#cells.set(id, cell);
    }
    const target = cell;
    this.#options.metrics.mailboxDepth.inc();
    return target.mailbox
      .post(async () => {
        try {
          return await this.#retryingStaleWrites(target, job);
        } finally {
          target.lastActivity = this.#options.clock.now();
          this.#options.metrics.mailboxDepth.dec();
        }
      })
      .catch((error: unknown) => {
        target.log.error({ err: error }, 'session job failed');
        throw error;
      });
  }

  async #retryingStaleWrites<T>(cell: Cell, job: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await job();
      } catch (error) {
        // Whatever failed, the actor in memory may be ahead of the store: drop it, the store is the truth.
        this.#release(cell);
        if (!(error instanceof StaleSessionError) || attempt >= MAX_STALE_RETRIES) throw error;
        // Another writer got there first: start again from the fresher state.
        this.#options.metrics.staleWrites.inc();
        cell.log.warn({ attempt }, 'stale session write, reloading');
      }
    }
  }

  async #applyPendingInbound(address: SessionAddress): Promise<void> {
    const cell = this.#cellOf(address);
    const pending = await this.#options.store.listPendingInbound(address.workspaceId, address.sessionKey);
    if (pending.length === 0) return;
    let live = await this.#load(cell);
    if (live?.actor.getSnapshot().status !== 'active') {
      live = this.#startSession(cell, pending[0]!);
    }
    const before = live.actor.getSnapshot();
    for (const message of pending) {
      live.actor.send({
        type: 'customer.message',
        at: this.#options.clock.now(),
        message: toCustomerMessage(message, this.#options.staleMessageAgeMs ?? Number.POSITIVE_INFINITY),
        ...(message.customerName ? { customerName: message.customerName } : {}),
      });
    }
    this.#options.metrics.eventsApplied.inc({ type: 'customer.message' }, pending.length);
    await this.#takeQuickReply(live);
    await this.#commit(
      cell,
      before,
      pending.map((message) => message.id),
    );
  }

  async #applyCommand(address: SessionAddress, command: SessionCommand): Promise<CommandResult> {
    const cell = this.#cellOf(address);
    const live = await this.#load(cell);
    const { sessionId, ...rest } = command;
    if (!live || (sessionId !== undefined && sessionId !== live.record.id))
      return { ok: false, error: 'not_found' };
    const before = live.actor.getSnapshot();
    const now = this.#options.clock.now();
    const deadline = before.context.timer?.at;
    const event = (
      rest.type === 'session.advance'
        ? // No pending timeout: `at` stays now, which the machine's timerDue guard refuses.
          { type: 'session.timeout', at: Math.max(now, deadline ?? now) }
        : { ...rest, at: now }
    ) as SessionEvent;
    if (before.status !== 'active' || !before.can(event)) {
      return { ok: false, error: 'rejected', sessionId: live.record.id, state: String(before.value) };
    }
    live.actor.send(event);
    this.#options.metrics.eventsApplied.inc({ type: event.type });
    const record = await this.#commit(cell, before, []);
    return { ok: true, sessionId: record.id, state: record.state, version: record.version };
  }

  /**
   * Waits up to the reply window for the AI call the job just started; an answer that comes within it is
   * applied at once, so the job's one commit holds the customer's messages and the answer. Nothing is lost by
   * not committing `ai_responding` first: until the commit the messages are unapplied, and a crash has them
   * delivered again. The answer's own mailbox job then finds the call over and does nothing.
   */
  async #takeQuickReply(live: NonNullable<Cell['live']>): Promise<void> {
    const invocation = live.reply;
    const windowMs = this.#options.replyWindowMs ?? DEFAULT_REPLY_WINDOW_MS;
    if (!invocation || invocation.cancelled || windowMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      invocation.outcome,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), windowMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === undefined || invocation.cancelled || live.reply !== invocation) return;
    this.#sendReply(live.actor, outcome);
  }

  /** The AI answered: deliver it through the mailbox so it is ordered and persisted like any event. */
  #applyReply(
    cell: Cell,
    actor: SessionActor,
    invocation: ReplyInvocation,
    outcome: ReplyOutcome,
  ): Promise<void> {
    return this.#post(cell.address, async () => {
      // A result for an actor that was stopped, reloaded or moved on is stale: the AI call is redone
      // by whichever actor is in `ai_responding` now. One taken within the reply window is applied already.
      if (invocation.cancelled || cell.live?.actor !== actor) return;
      const before = actor.getSnapshot();
      this.#sendReply(actor, outcome);
      await this.#commit(cell, before, []);
    });
  }

  #sendReply(actor: SessionActor, outcome: ReplyOutcome): void {
    const at = this.#options.clock.now();
    const event: SessionEvent =
      outcome.kind === 'reply'
        ? {
            type: 'ai.replied',
            at,
            text: outcome.text,
            confidence: outcome.confidence,
            lowConfidence: outcome.lowConfidence,
            chunks: outcome.chunks,
            ...(outcome.evidence ? { evidence: outcome.evidence } : {}),
          }
        : { type: 'ai.fallback', at, reason: outcome.reason, evidence: outcome.evidence };
    actor.send(event);
    this.#options.metrics.eventsApplied.inc({ type: event.type });
  }

  #startReply(request: ReplyRequest): () => void {
    const controller = new AbortController();
    const cell = this.#cellsBySessionId.get(request.sessionId);
    const live = cell?.live;
    let started: (outcome: Promise<ReplyOutcome>) => void = () => {};
    const invocation: ReplyInvocation = {
      cancelled: false,
      settled: false,
      outcome: new Promise((resolve) => {
        started = resolve;
      }),
    };
    // Leaving `ai_responding` cancels the invocation; only a call still running is aborted, since every
    // answered turn ends its invocation and an abort builds an AbortError, stack and all.
    const cancel = () => {
      invocation.cancelled = true;
      if (!invocation.settled) controller.abort();
      if (live?.reply === invocation) live.reply = undefined;
    };
    if (!cell || !live) return cancel;
    const { actor } = live;
    live.reply = invocation;
    // Deferred: when a burst re-enters `ai_responding` several times in one job, only the last call runs.
    setImmediate(() => {
      if (invocation.cancelled) return;
      // Through a promise, so an adapter that throws before returning one falls back like one that rejects.
      const outcome = Promise.resolve()
        .then(() => this.#options.replyAgent.generateReply(request, controller.signal))
        .catch(
          (error: unknown): ReplyOutcome => ({
            kind: 'fallback',
            reason: 'ai_error',
            evidence: { rule: 'ai_error', error: error instanceof Error ? error.message : String(error) },
          }),
        )
        .then((answer) => {
          invocation.settled = true;
          return answer;
        });
      started(outcome);
      outcome
        .then((answer) => this.#applyReply(cell, actor, invocation, answer))
        .catch((error: unknown) => {
          // Stopping is not a failure: the session is still `ai_responding` in the store, and the next start
          // (whichever host owns it then) makes the call again.
          if (this.#stopping) cell.log.info('AI reply left to the next start: the host is stopping');
          else cell.log.error({ err: error }, 'AI reply not applied');
        });
    });
    return cancel;
  }

  #cellOf(address: SessionAddress): Cell {
    const cell = this.#cells.get(cellId(address));
    if (!cell) throw new Error(`no mailbox for ${address.workspaceId}/${address.sessionKey}`);
    return cell;
  }

  /** The live actor of the key's open session, rehydrated from the store if it was passivated. */
  async #load(cell: Cell): Promise<Cell['live']> {
    if (cell.live) return cell.live;
    const started = performance.now();
    const record = await this.#options.store.loadOpenSession(
      cell.address.workspaceId,
      cell.address.sessionKey,
    );
    if (!record) return undefined;
    const snapshot = migrateSessionSnapshot(record.snapshot, record.machineVersion);
    cell.live = { actor: undefined as unknown as SessionActor, record, effects: [] };
    this.#cellsBySessionId.set(record.id, cell);
    cell.live.actor = createActor(this.#machine, {
      // A persisted snapshot is JSON; the machine restores it (input is only read for a new session).
      snapshot: snapshot as never,
      input: undefined as never,
      inspect: this.#options.inspect,
    });
    cell.live.actor.start();
    this.#countLive(1, record.state);
    this.#enforceLiveLimit();
    this.#armTimer(cell);
    this.#options.metrics.rehydrations.inc();
    this.#options.metrics.rehydrationSeconds.observe((performance.now() - started) / 1000);
    return cell.live;
  }

  #startSession(cell: Cell, first: InboundMessage): NonNullable<Cell['live']> {
    if (cell.live) this.#release(cell);
    const settings = this.#options.settingsFor(cell.address.workspaceId);
    if (!settings) throw new Error(`workspace ${cell.address.workspaceId} is not configured`);
    const now = this.#options.clock.now();
    const record: StoredSession = {
      ...cell.address,
      id: randomUUID(),
      phoneNumberId: first.phoneNumberId,
      customerWaId: first.customerWaId,
      state: 'active',
      snapshot: null,
      machineVersion: SESSION_MACHINE_VERSION,
      version: 0,
      nextDeadlineAt: null,
      createdAt: now,
      closedAt: null,
    };
    const live: NonNullable<Cell['live']> = {
      actor: undefined as unknown as SessionActor,
      record,
      effects: [],
    };
    cell.live = live;
    this.#cellsBySessionId.set(record.id, cell);
    live.actor = createActor(this.#machine, {
      input: {
        sessionId: record.id,
        workspaceId: cell.address.workspaceId,
        phoneNumberId: first.phoneNumberId,
        customer: { waId: first.customerWaId, name: null },
        settings,
        startedAt: now,
      },
      inspect: this.#options.inspect,
    });
    live.actor.start();
    this.#countLive(1, record.state);
    this.#enforceLiveLimit();
    return live;
  }

  /** Persists the actor's current snapshot with what the transition produced, version-checked. */
  async #commit(
    cell: Cell,
    before: ReturnType<SessionActor['getSnapshot']>,
    appliedInboundIds: string[],
  ): Promise<StoredSession> {
    const live = cell.live!;
    const snapshot = live.actor.getSnapshot();
    const effects = live.effects.splice(0);
    const now = this.#options.clock.now();
    const { context } = snapshot;
    const state = String(snapshot.value);
    const isNew = live.record.version === 0;
    const previousState = String(before.value);
    const notice: Omit<SessionNotice, 'eventId'> = {
      type: 'session.updated',
      sessionId: live.record.id,
      workspaceId: live.record.workspaceId,
      sessionKey: live.record.sessionKey,
      state,
      previousState: isNew ? null : previousState,
      version: live.record.version + 1,
      at: now,
      handoff: context.handoff,
      entries: newEntries(before.context.history, context.history),
    };
    const started = performance.now();
    const record = await this.#options.store.writeSession({
      session: {
        ...live.record,
        state,
        snapshot: live.actor.getPersistedSnapshot(),
        machineVersion: SESSION_MACHINE_VERSION,
        nextDeadlineAt: context.timer?.at ?? null,
        closedAt: snapshot.status === 'done' ? now : null,
      },
      expectedVersion: isNew ? null : live.record.version,
      appliedInboundIds,
      outbound: effects.map(toOutboundIntent),
      event: notice,
      now,
    });
    this.#options.metrics.persistSeconds.observe((performance.now() - started) / 1000);
    live.record = record;
    if (effects.length > 0) this.#options.onOutbound?.();
    if (live.typingFor !== undefined) {
      this.#options.typing?.show({
        workspaceId: record.workspaceId,
        phoneNumberId: record.phoneNumberId,
        wamid: live.typingFor,
        // An answer committed with the messages it answers is on its way: "typing…" would outlast it.
        typing: state === 'ai_responding',
      });
      live.typingFor = undefined;
    }
    this.#armTimer(cell);
    if (previousState !== state || isNew) {
      const { metrics } = this.#options;
      metrics.stateTransitions.inc({ from: previousState, to: state });
      metrics.liveSessionsByState.dec({ state: previousState });
      metrics.liveSessionsByState.inc({ state });
      const closed = snapshot.status === 'done';
      cell.log[isNew || closed ? 'info' : 'debug'](
        { sessionId: record.id, from: isNew ? null : previousState, to: state, version: record.version },
        isNew
          ? 'session started'
          : closed
            ? `session closed (${context.closedReason})`
            : 'session state changed',
      );
    }
    await this.#publish(cell, { ...notice, eventId: record.eventId });
    if (snapshot.status === 'done') this.#release(cell);
    return record;
  }

  async #publish(cell: Cell, notice: SessionNotice): Promise<void> {
    try {
      await publishSessionNotice(this.#options.transport, cell.address, notice);
    } catch (error) {
      // Live updates are best effort: the session's state is already committed and readable.
      cell.log.warn({ err: error }, 'could not publish session event');
    }
  }

  #armTimer(cell: Cell): void {
    const live = cell.live;
    if (!live) return;
    live.timer?.cancel();
    live.timer = undefined;
    const deadline = live.actor.getSnapshot().context.timer;
    if (!deadline) return;
    live.timer = this.#options.clock.setTimer(() => {
      this.fireTimeout(cell.address).catch(() => undefined);
    }, deadline.at - this.#options.clock.now());
  }

  /**
   * A burst of new conversations must not wait for the next sweep to respect the limit. The actor just started
   * is safe: its own job is running, so its mailbox is not empty.
   */
  #enforceLiveLimit(): void {
    if (this.liveActors > this.#options.maxLiveActors) this.#passivate(Number.POSITIVE_INFINITY);
  }

  #countLive(delta: number, state: string): void {
    this.#liveCount += delta;
    this.#options.metrics.liveActors.set(this.#liveCount);
    this.#options.metrics.liveSessionsByState.inc({ state }, delta);
  }

  #release(cell: Cell): void {
    const live = cell.live;
    if (!live) return;
    live.timer?.cancel();
    live.actor.stop();
    this.#cellsBySessionId.delete(live.record.id);
    cell.live = undefined;
    this.#countLive(-1, live.record.state);
  }
}

function cellId(address: SessionAddress): string {
  return `${address.workspaceId}/${address.sessionKey}`;
}

/** The payload is Meta's message object (graph-api-client.ts `OutboundMessage`): the sender posts it as is. */
function toOutboundIntent({ author, text, template }: SendParams): OutboundIntent {
  if (!template) return { author, type: 'text', body: text, payload: { type: 'text', text: { body: text } } };
  const { name, language, components } = template;
  return {
    author,
    type: 'template',
    body: text,
    payload: {
      type: 'template',
      template: { name, language: { code: language }, ...(components && { components }) },
    },
  };
}

/** History entries appended by a transition (the history is capped, so compare by identity, not length). */
function newEntries(before: HistoryEntry[], after: HistoryEntry[]): HistoryEntry[] {
  const seen = new Set(before);
  return after.filter((entry) => !seen.has(entry));
}
