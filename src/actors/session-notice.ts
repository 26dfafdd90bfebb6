import type { Handoff, HistoryEntry } from '../machines/session.ts';
import type { SessionAddress } from '../persistence/session-store.ts';
import { sessionSubject } from '../transport/subjects.ts';
import type { Transport } from '../transport/transport.ts';

/** Published on the session's `evt` subject after every committed transition: what inboxes stream live. */
export interface SessionNotice {
  type: 'session.updated';
  /** The stored session event's id: a live inbox resumes after it (SSE Last-Event-ID). */
  eventId: string | null;
  sessionId: string;
  workspaceId: string;
  sessionKey: string;
  state: string;
  previousState: string | null;
  version: number;
  at: number;
  handoff: Handoff | null;
  /** History entries this change appended. */
  entries: HistoryEntry[];
}

export function publishSessionNotice(transport: Transport, address: SessionAddress, notice: SessionNotice) {
  return transport.publish(
    sessionSubject(address.workspaceId, address.partition, address.sessionKey, 'evt'),
    notice,
  );
}
