import type { HistoryEntry } from '../machines/session.ts';
import type { SessionAddress } from '../persistence/session-store.ts';
import { sessionSubject } from '../transport/subjects.ts';
import type { Transport } from '../transport/transport.ts';

/** Published on the session's `evt` subject after every committed transition: what inboxes stream live. */
export interface SessionNotice {
  type: 'session.updated';
  sessionId: string;
  workspaceId: string;
  sessionKey: string;
  state: string;
  previousState: string | null;
  version: number;
  at: number;
  entries: HistoryEntry[];
}

export function publishSessionNotice(transport: Transport, address: SessionAddress, notice: SessionNotice) {
  return transport.publish(
    sessionSubject(address.workspaceId, address.partition, address.sessionKey, 'evt'),
    notice,
  );
}
