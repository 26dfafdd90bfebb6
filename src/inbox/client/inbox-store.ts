import { createStore } from '@xstate/store';
import type { InboxView, SessionSummary, SessionView } from '../../gateway/agent-api-schemas.ts';
import type { InboxEvent, InboxStatusEvent } from '../../gateway/inbox-events.ts';
import { isStatusAdvance } from '../../whatsapp/status-rank.ts';

export type Connection = 'offline' | 'connecting' | 'live';

export interface InboxContext {
  token: string | null;
  agent: InboxView['agent'] | null;
  /** Every waiting session, oldest first, whatever its team: the page groups them into team queues. */
  waiting: SessionSummary[];
  mine: SessionSummary[];
  others: SessionSummary[];
  selectedId: string | null;
  selected: SessionView | null;
  connection: Connection;
  /** The last session event applied: the stream resumes after it. */
  lastEventId: string | null;
  /** The last thing that went wrong, in words, for the status line. */
  problem: string | null;
  /** Server clock minus browser clock, from the last inbox read. */
  clockOffsetMs: number;
}

const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

const initial: InboxContext = {
  token: null,
  agent: null,
  waiting: [],
  mine: [],
  others: [],
  selectedId: null,
  selected: null,
  connection: 'offline',
  lastEventId: null,
  problem: null,
  clockOffsetMs: 0,
};

/** Where a session belongs in the inbox after a change; null when it is nobody's business (AI or closed). */
function listOf(summary: SessionSummary, agentId: string | undefined): 'waiting' | 'mine' | 'others' | null {
  if (summary.state === 'fallback') return 'waiting';
  if (summary.state !== 'human') return null;
  return summary.handoff?.agentId === agentId ? 'mine' : 'others';
}

/** The inbox's summary of a session after a live event, keeping what the event does not carry. */
function applyEvent(previous: SessionSummary | undefined, event: InboxEvent): SessionSummary {
  const messages = event.entries.filter(
    (entry) =>
      entry.kind === 'customer' || entry.kind === 'ai' || entry.kind === 'agent' || entry.kind === 'system',
  );
  const lastMessage = messages.at(-1);
  const lastCustomer = messages.findLast((entry) => entry.kind === 'customer');
  return {
    sessionId: event.sessionId,
    state: event.state,
    customer: { waId: event.customer.waId, name: previous?.customer.name ?? null },
    phoneNumberId: previous?.phoneNumberId ?? '',
    handoff: event.handoff,
    waitingMs: null,
    lastMessage: lastMessage && 'text' in lastMessage ? lastMessage.text : (previous?.lastMessage ?? null),
    serviceWindowEndsAt: lastCustomer
      ? lastCustomer.at + SERVICE_WINDOW_MS
      : (previous?.serviceWindowEndsAt ?? null),
    updatedAt: event.at,
  };
}

type TranscriptMessage = SessionView['transcript'][number];

/** A message with a status, moved forward only: a live event and a read of the session may arrive in any order. */
function withStatus(
  message: TranscriptMessage,
  status: TranscriptMessage['status'],
  error: TranscriptMessage['error'],
): TranscriptMessage {
  if (!isStatusAdvance(message.status, status)) return message;
  return { ...message, status, error: error ?? message.error };
}

/** A fresh read of the open session, keeping any status a live event already moved further. */
function mergeStatuses(loaded: SessionView, current: SessionView | null): SessionView {
  if (current?.session.sessionId !== loaded.session.sessionId) return loaded;
  const live = new Map(current.transcript.map((message) => [message.id, message]));
  return {
    ...loaded,
    transcript: loaded.transcript.map((message) => {
      const known = live.get(message.id);
      return known ? withStatus(message, known.status, known.error) : message;
    }),
  };
}

const byRequest = (a: SessionSummary, b: SessionSummary) =>
  (a.handoff?.requestedAt ?? 0) - (b.handoff?.requestedAt ?? 0);

/**
 * The inbox page's state: what the agent API said, then every live event applied in order. Components read it;
 * the controller (inbox-controller.ts) feeds it from the API and the event stream.
 */
type StoreEvent =
  | { type: 'signedIn'; token: string }
  | { type: 'signedOut' }
  | { type: 'inboxLoaded'; inbox: InboxView; clockOffsetMs: number }
  | { type: 'sessionSelected'; sessionId: string | null }
  | { type: 'sessionLoaded'; session: SessionView }
  | { type: 'eventReceived'; id: string; data: InboxEvent }
  | { type: 'statusReceived'; id: string; data: InboxStatusEvent }
  | { type: 'connectionChanged'; connection: Connection }
  | { type: 'availabilityChanged'; available: boolean }
  | { type: 'problemReported'; problem: string | null };

/** The open session changed: its transcript (with delivery statuses) needs reading again. */
type InboxEmitted = { type: 'selectedChanged'; sessionId: string };

export function createInboxStore() {
  return createStore<InboxContext, StoreEvent, InboxEmitted>({
    context: initial,
    on: {
      signedIn: (_, event) => ({ ...initial, token: event.token }),
      signedOut: () => initial,
      inboxLoaded: (context, event) => ({
        ...context,
        clockOffsetMs: event.clockOffsetMs,
        agent: event.inbox.agent,
        waiting: event.inbox.queues.flatMap((queue) => queue.waiting).sort(byRequest),
        mine: event.inbox.mine,
        others: event.inbox.others,
        lastEventId: event.inbox.lastEventId,
        problem: null,
      }),
      sessionSelected: (context, event) => ({
        ...context,
        selectedId: event.sessionId,
        selected: context.selected?.session.sessionId === event.sessionId ? context.selected : null,
      }),
      sessionLoaded: (context, event) =>
        event.session.session.sessionId === context.selectedId
          ? { ...context, selected: mergeStatuses(event.session, context.selected) }
          : context,
      eventReceived: (context, event, enqueue) => {
        const { data } = event;
        const lists = { waiting: context.waiting, mine: context.mine, others: context.others };
        const previous = [...lists.waiting, ...lists.mine, ...lists.others].find(
          (summary) => summary.sessionId === data.sessionId,
        );
        const summary = applyEvent(previous, data);
        const without = (list: SessionSummary[]) => list.filter((item) => item.sessionId !== data.sessionId);
        const next = {
          waiting: without(lists.waiting),
          mine: without(lists.mine),
          others: without(lists.others),
        };
        const target = listOf(summary, context.agent?.agentId);
        if (target) next[target] = [...next[target], summary];
        next.waiting.sort(byRequest);
        if (data.sessionId === context.selectedId)
          enqueue.emit.selectedChanged({ sessionId: data.sessionId });
        return { ...context, ...next, lastEventId: event.id };
      },
      // A tick changes in the open transcript; a message not read yet is there on the next read of it.
      statusReceived: (context, event, enqueue) => {
        const { data } = event;
        const { selected } = context;
        if (selected?.session.sessionId !== data.sessionId) return { ...context, lastEventId: event.id };
        if (!selected.transcript.some((message) => message.id === data.messageId)) {
          enqueue.emit.selectedChanged({ sessionId: data.sessionId });
          return { ...context, lastEventId: event.id };
        }
        const transcript = selected.transcript.map((message) =>
          message.id === data.messageId ? withStatus(message, data.status, data.error) : message,
        );
        return { ...context, selected: { ...selected, transcript }, lastEventId: event.id };
      },
      connectionChanged: (context, event) => ({
        ...context,
        connection: event.connection,
      }),
      availabilityChanged: (context, event) => ({
        ...context,
        agent: context.agent && { ...context.agent, available: event.available },
      }),
      problemReported: (context, event) => ({ ...context, problem: event.problem }),
    },
  });
}

export type InboxStore = ReturnType<typeof createInboxStore>;
