import { parseSessionKey } from '../actors/session-key.ts';
import type { SessionNotice } from '../actors/session-notice.ts';
import type { MessageStatusEvent } from '../persistence/status-events.ts';

/** What changed for the inbox, most significant first; the first one names the SSE event. */
export type InboxChange = 'waiting' | 'assigned' | 'status' | 'message' | 'updated';

/** The data of one SSE event: one committed change of one session. */
export interface InboxEvent {
  sessionId: string;
  state: string;
  previousState: string | null;
  version: number;
  at: number;
  customer: { waId: string };
  handoff: SessionNotice['handoff'];
  /** History entries the change appended: messages, AI decisions, fallbacks, handbacks. */
  entries: SessionNotice['entries'];
  changes: InboxChange[];
}

const MESSAGE_ENTRIES = new Set(['customer', 'ai', 'agent', 'system']);

/** Names a session notice for the inbox: a new waiting session, an assignment, a state change, a message. */
export function toInboxEvent(notice: SessionNotice): { type: `session.${InboxChange}`; data: InboxEvent } {
  const moved = notice.state !== notice.previousState;
  const changes: InboxChange[] = [];
  if (moved && notice.state === 'fallback') changes.push('waiting');
  if (moved && notice.state === 'human') changes.push('assigned');
  if (moved && changes.length === 0) changes.push('status');
  if (notice.entries.some((entry) => MESSAGE_ENTRIES.has(entry.kind))) changes.push('message');
  // Delivery statuses and failures change no state and add no message, but the transcript shows them.
  if (changes.length === 0) changes.push('updated');
  return {
    type: `session.${changes[0]!}`,
    data: {
      sessionId: notice.sessionId,
      state: notice.state,
      previousState: notice.previousState,
      version: notice.version,
      at: notice.at,
      customer: { waId: parseSessionKey(notice.sessionKey).customerWaId },
      handoff: notice.handoff,
      entries: notice.entries,
      changes,
    },
  };
}

/** The data of a `message.status` SSE event: an outbound message of the session moved to `status`. */
export type InboxStatusEvent = Omit<MessageStatusEvent, 'type'>;

export function toStatusEvent(event: MessageStatusEvent): { type: 'message.status'; data: InboxStatusEvent } {
  const { type, ...data } = event;
  return { type, data };
}
