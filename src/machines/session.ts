import { and, assign, enqueueActions, fromCallback, setup } from 'xstate';

/**
 * Bumped whenever a change to context or states would make an older persisted snapshot load wrongly;
 * `migrateSessionSnapshot` (session-snapshot.ts) brings older snapshots up to date.
 */
export const SESSION_MACHINE_VERSION = 2;

export type FallbackReason =
  | 'keyword'
  | 'low_confidence'
  | 'unsupported'
  | 'loop'
  | 'ai_error'
  | 'customer_request';

export type TimerKind = 'inactivity' | 'ai' | 'handoff' | 'human_inactivity';

/** Why a session closed: the customer's silence, the agent's, an agent's close, or a handoff nobody took. */
export type ClosedReason = 'inactivity' | 'human_inactivity' | 'agent' | 'handoff_timeout';

/** Meta's 24-hour customer service window. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The durations and texts a session runs with: the workspace's settings, captured when the session starts. */
export interface SessionMachineSettings {
  inactivityTimeoutMs: number;
  aiTimeoutMs: number;
  handoffTimeoutMs: number;
  humanInactivityTimeoutMs: number;
  onHandoffTimeout: 'keep_waiting' | 'close';
  handoffMessage: string;
  handoffTimeoutMessage: string;
  maxLowConfidenceTurns: number;
  historyLimit: number;
  defaultTeamId: string | null;
  /** Sent to the customer when the session closes, if their 24-hour window is still open. */
  closedMessage: string | null;
}

export interface CustomerMessage {
  wamid: string;
  /** Meta's message type: text, image, interactive, ... */
  type: string;
  /** The text, caption or button title; null for media without caption. */
  text: string | null;
  /** Meta's timestamp, ms. */
  sentAt: number;
  /** Delivered long after it was sent (Meta catching up after an outage): see `answeredSinceStaleMessage`. */
  stale?: boolean;
  /** The id of a pressed reply button or list row, or a template quick reply's payload: what the button means. */
  replyId?: string;
}

export type HistoryEntry =
  /**
   * `at` is when the session applied it; `sentAt` is Meta's timestamp, which orders a turn's messages. The machine
   * always records it (snapshots of version 1 get it in the upgrade); an entry without it counts as sent at `at`.
   */
  | { kind: 'customer'; at: number; sentAt?: number; wamid: string; type: string; text: string | null }
  /** `evidence`: why the agent answered (its rule, the threshold, the best hits, tokens); absent from older entries. */
  | {
      kind: 'ai';
      at: number;
      text: string;
      confidence: number;
      chunks: string[];
      evidence?: Record<string, unknown>;
    }
  /** `template` names the approved template when the agent sent one rather than free text. */
  | { kind: 'agent'; at: number; agentId: string; text: string; template?: string }
  | { kind: 'system'; at: number; text: string }
  | { kind: 'fallback'; at: number; reason: FallbackReason; evidence: Record<string, unknown> }
  | { kind: 'handback'; at: number; agentId: string }
  | { kind: 'delivery_failed'; at: number; wamid: string; code: number | null; title: string | null };

export interface Handoff {
  reason: FallbackReason;
  requestedAt: number;
  teamId: string | null;
  agentId: string | null;
  takenAt: number | null;
  customerNotifiedAt: number | null;
}

export interface SessionContext {
  sessionId: string;
  workspaceId: string;
  phoneNumberId: string;
  customer: { waId: string; name: string | null };
  settings: SessionMachineSettings;
  startedAt: number;
  /** Recent turns, capped at `settings.historyLimit`: what the AI sees and what a person reads. */
  history: HistoryEntry[];
  /** Customer messages the AI has not answered yet: a burst is answered once, together. */
  unanswered: CustomerMessage[];
  lowConfidenceStreak: number;
  handoff: Handoff | null;
  /** Opens the 24-hour window in which free-form replies are allowed. */
  lastCustomerMessageAt: number | null;
  /** The one deadline of the current state; stored with the session so a sweeper can fire it durably. */
  timer: { kind: TimerKind; at: number } | null;
  closedReason: ClosedReason | null;
}

export interface SessionInput {
  sessionId: string;
  workspaceId: string;
  phoneNumberId: string;
  customer: { waId: string; name: string | null };
  settings: SessionMachineSettings;
  startedAt: number;
}

/** What the AI agent actor receives. */
export interface ReplyRequest {
  sessionId: string;
  workspaceId: string;
  history: HistoryEntry[];
  unanswered: CustomerMessage[];
  lowConfidenceStreak: number;
}

/** What the host's handoff routing reads when a session enters `fallback`: the decision and the messages it was about. */
export interface HandoffRouting {
  reason: FallbackReason;
  evidence: Record<string, unknown>;
  messages: CustomerMessage[];
}

/** Every event carries `at`, the host clock's time when it happened: the machine never reads a clock. */
export type SessionEvent =
  | { type: 'customer.message'; at: number; message: CustomerMessage; customerName?: string }
  | {
      type: 'ai.replied';
      at: number;
      text: string;
      confidence: number;
      lowConfidence: boolean;
      chunks: string[];
      evidence?: Record<string, unknown>;
    }
  | {
      type: 'ai.fallback';
      at: number;
      reason: FallbackReason;
      evidence: Record<string, unknown>;
    }
  | { type: 'agent.takeover'; at: number; agentId: string; teamId?: string }
  | { type: 'agent.message'; at: number; agentId: string; text: string }
  | { type: 'agent.template'; at: number; agentId: string; template: TemplateMessage }
  | { type: 'agent.release'; at: number; agentId: string }
  | { type: 'agent.close'; at: number; agentId: string }
  | {
      type: 'message.status';
      at: number;
      wamid: string;
      status: 'sent' | 'delivered' | 'read' | 'failed';
      /** `code` is null when the failure is not one of Meta's (e.g. Meta's answer never came). */
      error?: { code: number | null; title: string };
    }
  | { type: 'session.timeout'; at: number };

/**
 * An approved WhatsApp template: Meta's template name, its language code (`en_US`) and the components that fill
 * its parameters, in Meta's own format. The only message WhatsApp delivers outside the 24-hour window.
 */
export interface TemplateMessage {
  name: string;
  language: string;
  components?: Record<string, unknown>[];
}

/** What the session asks the host to send; the host writes it to the outbox with the new snapshot. */
export interface SendParams {
  author: 'ai' | 'agent' | 'system';
  /** The text, or for a template how the transcript names it. */
  text: string;
  template?: TemplateMessage;
}

const describeTemplate = (template: TemplateMessage): string =>
  `Template "${template.name}" (${template.language})`;

const timeOf = (context: SessionContext, event: { type: string; at?: number }): number =>
  typeof event.at === 'number' ? event.at : context.startedAt;

const durationOf = (settings: SessionMachineSettings, kind: TimerKind): number =>
  ({
    inactivity: settings.inactivityTimeoutMs,
    ai: settings.aiTimeoutMs,
    handoff: settings.handoffTimeoutMs,
    human_inactivity: settings.humanInactivityTimeoutMs,
  })[kind];

const appendHistory = (context: SessionContext, ...entries: HistoryEntry[]): HistoryEntry[] =>
  [...context.history, ...entries].slice(-context.settings.historyLimit);

const sentAtOf = (entry: HistoryEntry & { kind: 'customer' }): number => entry.sentAt ?? entry.at;

/**
 * Meta does not deliver in order, and a message can come in a later webhook than one sent after it. Within a
 * turn (the customer messages since the business last spoke) the entry takes its place by Meta's timestamp;
 * it never moves before a reply already sent, which was written without it (and Meta's timestamps are whole
 * seconds on another clock, too coarse to interleave with ours).
 */
function insertCustomerEntry(
  context: SessionContext,
  entry: HistoryEntry & { kind: 'customer' },
): HistoryEntry[] {
  const history = [...context.history];
  let index = history.length;
  while (index > 0) {
    const previous = history[index - 1]!;
    if (previous.kind !== 'customer' || sentAtOf(previous) <= sentAtOf(entry)) break;
    index--;
  }
  history.splice(index, 0, entry);
  return history.slice(-context.settings.historyLimit);
}

/** The messages waiting for an answer, in the order the customer sent them. */
function insertUnanswered(unanswered: CustomerMessage[], message: CustomerMessage): CustomerMessage[] {
  const index = unanswered.findLastIndex((queued) => queued.sentAt <= message.sentAt) + 1;
  return [...unanswered.slice(0, index), message, ...unanswered.slice(index)];
}

const insideServiceWindow = (context: SessionContext, at: number): boolean =>
  context.lastCustomerMessageAt !== null && at < context.lastCustomerMessageAt + SERVICE_WINDOW_MS;

/** Why the session is falling back: the AI agent's decision, or the machine's own backstops. */
function fallbackDecision(
  context: SessionContext,
  event: SessionEvent,
): { reason: FallbackReason; evidence: Record<string, unknown> } {
  if (event.type === 'ai.fallback') return { reason: event.reason, evidence: event.evidence };
  if (event.type === 'ai.replied') {
    return {
      reason: 'loop',
      evidence: {
        rule: 'low_confidence_streak',
        lowConfidenceTurns: context.lowConfidenceStreak + 1,
        lastConfidence: event.confidence,
      },
    };
  }
  return {
    reason: 'ai_error',
    evidence: {
      rule: 'ai_timeout',
      error: 'the AI agent did not answer in time',
      timeoutMs: context.settings.aiTimeoutMs,
    },
  };
}

/** The fallback just requested (the last history entry of its kind) and the burst it was about. */
const handoffRouting = ({ context }: { context: SessionContext }): HandoffRouting => {
  const fallback = context.history.findLast((entry) => entry.kind === 'fallback');
  return {
    // `requestHandoff` ran in the transition that entered `fallback`: the handoff is there.
    reason: context.handoff!.reason,
    evidence: fallback?.kind === 'fallback' ? fallback.evidence : {},
    messages: context.unanswered,
  };
};

const sendAiReply = {
  type: 'send',
  params: ({ event }: { event: SessionEvent }): SendParams => ({
    author: 'ai',
    text: event.type === 'ai.replied' ? event.text : '',
  }),
} as const;

const sendHandoffMessage = {
  type: 'send',
  params: ({ context }: { context: SessionContext }): SendParams => ({
    author: 'system',
    text: context.settings.handoffMessage,
  }),
} as const;

const sendAgentMessage = {
  type: 'send',
  params: ({ event }: { event: SessionEvent }): SendParams => ({
    author: 'agent',
    text: event.type === 'agent.message' ? event.text : '',
  }),
} as const;

const sendAgentTemplate = {
  type: 'send',
  params: ({ event }: { event: SessionEvent }): SendParams =>
    event.type === 'agent.template'
      ? { author: 'agent', text: describeTemplate(event.template), template: event.template }
      : { author: 'agent', text: '' },
} as const;

const notifyHandoffTimeout = [
  {
    type: 'send',
    params: ({ context }: { context: SessionContext }): SendParams => ({
      author: 'system',
      text: context.settings.handoffTimeoutMessage,
    }),
  },
  'recordHandoffTimeoutNotice',
] as const;

export const sessionMachine = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
  },
  actors: {
    /** The AI agent. The host provides the real one; it answers with `ai.replied` or `ai.fallback`, never throws. */
    generateReply: fromCallback<SessionEvent, ReplyRequest>(() => undefined),
  },
  actions: {
    /** Sending is the host's: it turns this into an outbox row in the same transaction as the snapshot. */
    send: (_, _params: SendParams) => undefined,
    /** The customer sees "typing…" while the AI composes: a best-effort side effect the host provides. */
    indicateTyping: () => undefined,
    armTimer: assign({
      timer: ({ context, event }, kind: TimerKind) => ({
        kind,
        at: timeOf(context, event) + durationOf(context.settings, kind),
      }),
    }),
    clearTimer: assign({ timer: null }),
    /** In the history (what a person reads, and the AI's context), whoever answers it. */
    recordCustomerMessage: assign(({ context, event }) => {
      if (event.type !== 'customer.message') return {};
      const { message } = event;
      return {
        history: insertCustomerEntry(context, {
          kind: 'customer',
          at: event.at,
          sentAt: message.sentAt,
          wamid: message.wamid,
          type: message.type,
          text: message.text,
        }),
        lastCustomerMessageAt: Math.max(context.lastCustomerMessageAt ?? 0, message.sentAt),
        customer: event.customerName ? { ...context.customer, name: event.customerName } : context.customer,
      };
    }),
    /** For the AI's next answer. Messages a human reads in `fallback` or `human` are theirs, not the AI's. */
    queueForReply: assign(({ context, event }) => {
      if (event.type !== 'customer.message') return {};
      return { unanswered: insertUnanswered(context.unanswered, event.message) };
    }),
    clearUnanswered: assign({ unanswered: [] }),
    recordAiReply: assign(({ context, event }) => {
      if (event.type !== 'ai.replied') return {};
      return {
        history: appendHistory(context, {
          kind: 'ai',
          at: event.at,
          text: event.text,
          confidence: event.confidence,
          chunks: event.chunks,
          ...(event.evidence ? { evidence: event.evidence } : {}),
        }),
        unanswered: [],
        lowConfidenceStreak: event.lowConfidence ? context.lowConfidenceStreak + 1 : 0,
      };
    }),
    /** The unanswered burst stays until `fallback`'s entry has routed the handoff by it. */
    requestHandoff: assign(({ context, event }) => {
      const at = timeOf(context, event);
      const decision = fallbackDecision(context, event);
      return {
        history: appendHistory(context, {
          kind: 'fallback',
          at,
          reason: decision.reason,
          evidence: decision.evidence,
        }),
        lowConfidenceStreak: 0,
        handoff: {
          reason: decision.reason,
          requestedAt: at,
          teamId: context.settings.defaultTeamId,
          agentId: null,
          takenAt: null,
          customerNotifiedAt: null,
        },
      };
    }),
    /**
     * Which team the handoff is queued for. The host provides the workspace's routing rules (handoff-routing.ts);
     * without them the session's default team stays.
     */
    routeHandoff: (_, _routing: HandoffRouting) => undefined,
    assignAgent: assign(({ context, event }) => {
      if (event.type !== 'agent.takeover') return {};
      const previous = context.handoff;
      return {
        unanswered: [],
        handoff: {
          reason: previous?.reason ?? 'customer_request',
          requestedAt: previous?.requestedAt ?? event.at,
          teamId: event.teamId ?? previous?.teamId ?? context.settings.defaultTeamId,
          agentId: event.agentId,
          takenAt: event.at,
          customerNotifiedAt: previous?.customerNotifiedAt ?? null,
        },
      };
    }),
    recordAgentMessage: assign(({ context, event }) => {
      if (event.type !== 'agent.message' && event.type !== 'agent.template') return {};
      return {
        history: appendHistory(context, {
          kind: 'agent',
          at: event.at,
          agentId: event.agentId,
          ...(event.type === 'agent.message'
            ? { text: event.text }
            : { text: describeTemplate(event.template), template: event.template.name }),
        }),
      };
    }),
    handBack: assign(({ context, event }) => {
      if (event.type !== 'agent.release') return {};
      return {
        history: appendHistory(context, { kind: 'handback', at: event.at, agentId: event.agentId }),
        handoff: null,
        lowConfidenceStreak: 0,
        // What the customer said while a person had the session was the person's to answer, not the AI's.
        unanswered: [],
      };
    }),
    recordHandoffTimeoutNotice: assign(({ context, event }) => {
      const at = timeOf(context, event);
      return {
        history: appendHistory(context, { kind: 'system', at, text: context.settings.handoffTimeoutMessage }),
        handoff: context.handoff && { ...context.handoff, customerNotifiedAt: at },
      };
    }),
    recordDeliveryFailure: assign(({ context, event }) => {
      if (event.type !== 'message.status' || event.status !== 'failed') return {};
      // Failures are told at least once (failure notices): a message fails once, so a second telling is a repeat.
      if (context.history.some((entry) => entry.kind === 'delivery_failed' && entry.wamid === event.wamid)) {
        return {};
      }
      return {
        history: appendHistory(context, {
          kind: 'delivery_failed',
          at: event.at,
          wamid: event.wamid,
          code: event.error?.code ?? null,
          title: event.error?.title ?? null,
        }),
      };
    }),
    markClosed: assign({
      closedReason: (_, reason: ClosedReason) => reason,
      timer: null,
      unanswered: [],
    }),
    recordClosedMessage: assign(({ context, event }) => ({
      history: appendHistory(context, {
        kind: 'system',
        at: timeOf(context, event),
        text: context.settings.closedMessage ?? '',
      }),
    })),
  },
  guards: {
    /**
     * A stale message that a reply already came after: Meta redelivers an outage's backlog one webhook
     * at a time, and the first of them got the conversation its answer.
     */
    answeredSinceStaleMessage: ({ context, event }) =>
      event.type === 'customer.message' &&
      event.message.stale === true &&
      context.history.some(
        (entry) => (entry.kind === 'ai' || entry.kind === 'agent') && entry.at >= event.message.sentAt,
      ),
    timerDue: ({ context, event }) => context.timer !== null && timeOf(context, event) >= context.timer.at,
    lowConfidenceStreakExhausted: ({ context, event }) =>
      event.type === 'ai.replied' &&
      event.lowConfidence &&
      context.lowConfidenceStreak + 1 >= context.settings.maxLowConfidenceTurns,
    closesOnHandoffTimeout: ({ context }) => context.settings.onHandoffTimeout === 'close',
    customerNotYetToldOfWait: ({ context }) => context.handoff?.customerNotifiedAt == null,
    customerToldOfWait: ({ context }) => context.handoff?.customerNotifiedAt != null,
    isAssignedAgent: ({ context, event }) => 'agentId' in event && context.handoff?.agentId === event.agentId,
    isAssignedAgentWithinServiceWindow: ({ context, event }) =>
      event.type === 'agent.message' &&
      context.handoff?.agentId === event.agentId &&
      insideServiceWindow(context, event.at),
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({
    sessionId: input.sessionId,
    workspaceId: input.workspaceId,
    phoneNumberId: input.phoneNumberId,
    customer: input.customer,
    settings: input.settings,
    startedAt: input.startedAt,
    history: [],
    unanswered: [],
    lowConfidenceStreak: 0,
    handoff: null,
    lastCustomerMessageAt: null,
    timer: null,
    closedReason: null,
  }),
  initial: 'active',
  on: {
    'message.status': { actions: 'recordDeliveryFailure' },
  },
  states: {
    active: {
      description: 'Waiting for the customer.',
      entry: { type: 'armTimer', params: 'inactivity' },
      on: {
        'customer.message': [
          // Recorded and left unanswered for the next turn: a backlog gets one answer, not one each.
          {
            guard: 'answeredSinceStaleMessage',
            actions: ['recordCustomerMessage', 'queueForReply', { type: 'armTimer', params: 'inactivity' }],
          },
          { target: 'ai_responding', actions: ['recordCustomerMessage', 'queueForReply'] },
        ],
        'agent.takeover': { target: 'human', actions: 'assignAgent' },
        'agent.close': { target: 'closed', actions: { type: 'markClosed', params: 'agent' } },
        'session.timeout': {
          guard: 'timerDue',
          target: 'closed',
          actions: { type: 'markClosed', params: 'inactivity' },
        },
      },
    },
    ai_responding: {
      description: 'The AI agent composes one answer to every unanswered customer message.',
      entry: [{ type: 'armTimer', params: 'ai' }, 'indicateTyping'],
      invoke: {
        id: 'generateReply',
        src: 'generateReply',
        input: ({ context }): ReplyRequest => ({
          sessionId: context.sessionId,
          workspaceId: context.workspaceId,
          history: context.history,
          unanswered: context.unanswered,
          lowConfidenceStreak: context.lowConfidenceStreak,
        }),
      },
      on: {
        // Re-entering restarts the AI call with the whole burst, so three quick lines get one answer.
        'customer.message': {
          target: 'ai_responding',
          reenter: true,
          actions: ['recordCustomerMessage', 'queueForReply'],
        },
        'ai.replied': [
          {
            guard: 'lowConfidenceStreakExhausted',
            target: 'fallback',
            actions: ['requestHandoff', sendHandoffMessage],
          },
          { target: 'active', actions: ['recordAiReply', sendAiReply] },
        ],
        'ai.fallback': { target: 'fallback', actions: ['requestHandoff', sendHandoffMessage] },
        'agent.takeover': { target: 'human', actions: 'assignAgent' },
        'agent.close': { target: 'closed', actions: { type: 'markClosed', params: 'agent' } },
        'session.timeout': {
          guard: 'timerDue',
          target: 'fallback',
          actions: ['requestHandoff', sendHandoffMessage],
        },
      },
    },
    fallback: {
      description: 'Handed off: waiting in a human team queue. The AI is silent.',
      entry: [
        { type: 'routeHandoff', params: handoffRouting },
        // Routed: the burst is the team's now, not the AI's.
        'clearUnanswered',
        { type: 'armTimer', params: 'handoff' },
      ],
      on: {
        'customer.message': [
          // Told to wait, the customer is on the inactivity clock: each message of theirs restarts it.
          {
            guard: 'customerToldOfWait',
            actions: ['recordCustomerMessage', { type: 'armTimer', params: 'inactivity' }],
          },
          { actions: 'recordCustomerMessage' },
        ],
        'agent.takeover': { target: 'human', actions: 'assignAgent' },
        'agent.close': { target: 'closed', actions: { type: 'markClosed', params: 'agent' } },
        'session.timeout': [
          {
            guard: and(['timerDue', 'closesOnHandoffTimeout']),
            target: 'closed',
            actions: [...notifyHandoffTimeout, { type: 'markClosed', params: 'handoff_timeout' }],
          },
          {
            // Tell the customer once that nobody is free yet; from then on their silence closes the session.
            guard: and(['timerDue', 'customerNotYetToldOfWait']),
            actions: [...notifyHandoffTimeout, { type: 'armTimer', params: 'inactivity' }],
          },
          {
            guard: 'timerDue',
            target: 'closed',
            actions: { type: 'markClosed', params: 'inactivity' },
          },
        ],
      },
    },
    human: {
      description: 'A human agent owns the session and replies in the same WhatsApp thread.',
      entry: { type: 'armTimer', params: 'human_inactivity' },
      on: {
        'customer.message': {
          target: 'human',
          reenter: true,
          actions: 'recordCustomerMessage',
        },
        'agent.message': {
          guard: 'isAssignedAgentWithinServiceWindow',
          target: 'human',
          reenter: true,
          actions: ['recordAgentMessage', sendAgentMessage],
        },
        // A template needs no open window: it is how an agent reaches a customer who has gone quiet.
        'agent.template': {
          guard: 'isAssignedAgent',
          target: 'human',
          reenter: true,
          actions: ['recordAgentMessage', sendAgentTemplate],
        },
        'agent.release': { guard: 'isAssignedAgent', target: 'active', actions: 'handBack' },
        'agent.close': { target: 'closed', actions: { type: 'markClosed', params: 'agent' } },
        'session.timeout': {
          guard: 'timerDue',
          target: 'closed',
          actions: { type: 'markClosed', params: 'human_inactivity' },
        },
      },
    },
    closed: {
      description: 'Final. A customer who writes again starts a new session.',
      type: 'final',
      entry: [
        'clearTimer',
        // The workspace's goodbye, when it has one and WhatsApp still takes free-form messages to this customer.
        enqueueActions(({ context, event, enqueue }) => {
          const text = context.settings.closedMessage;
          if (text === null || !insideServiceWindow(context, timeOf(context, event))) return;
          enqueue({ type: 'send', params: { author: 'system', text } });
          enqueue('recordClosedMessage');
        }),
      ],
    },
  },
});

export type SessionMachine = typeof sessionMachine;
