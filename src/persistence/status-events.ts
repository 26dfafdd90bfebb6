import type { Transaction } from 'kysely';
import type { Database, MessageStatus } from './schema.ts';
import { insertSessionEvents } from './session-event-rows.ts';
import { toJson } from './session-rows.ts';
import type { SessionAddress } from './session-store.ts';

/**
 * A delivery status an outbound message moved to, stored as a session event: the live inbox changes the
 * message's tick from it, and a client that reconnects with Last-Event-ID gets the ones it missed like any
 * other event. Statuses change no session state, so the session's own commits never carry them.
 */
export interface MessageStatusEvent {
  type: 'message.status';
  sessionId: string;
  messageId: string;
  wamid: string | null;
  status: MessageStatus;
  error: { code: number | null; title: string | null } | null;
  /** When the status reached us (or the sender marked the message), ms since epoch. */
  at: number;
}

/** An outbound message whose status a statement just moved forward, with what its event needs. */
export interface StatusChanged extends SessionAddress {
  messageId: string;
  sessionId: string;
  wamid: string | null;
  status: MessageStatus;
  errorCode: number | null;
  errorTitle: string | null;
  at: number;
}

/** Told after the commit that stored status events, with one session of each workspace they belong to. */
export type StatusEventsListener = (sessions: readonly SessionAddress[]) => void;

/**
 * Inserts a session event per changed status, in the transaction that changed them, as the session store's
 * own events are (session-event-rows.ts): the ids of a workspace become visible in increasing order, so a
 * stream resuming after one skips nothing. The insert comes after the transaction's row locks, as it does
 * there, so neither waits on the other in a cycle. Returns one session of each workspace, for the listener to
 * ring its live streams.
 */
export async function insertStatusEvents(
  trx: Transaction<Database>,
  changed: readonly StatusChanged[],
): Promise<SessionAddress[]> {
  if (changed.length === 0) return [];
  const byWorkspace = new Map<string, SessionAddress>();
  for (const { workspaceId, sessionKey, partition } of changed) {
    if (!byWorkspace.has(workspaceId)) byWorkspace.set(workspaceId, { workspaceId, sessionKey, partition });
  }
  await insertSessionEvents(
    trx,
    changed.map((change) => ({
      workspaceId: change.workspaceId,
      sessionId: change.sessionId,
      payload: toJson({
        type: 'message.status',
        sessionId: change.sessionId,
        messageId: change.messageId,
        wamid: change.wamid,
        status: change.status,
        error:
          change.errorCode === null && change.errorTitle === null
            ? null
            : { code: change.errorCode, title: change.errorTitle },
        at: change.at,
      } satisfies MessageStatusEvent),
    })),
  );
  return [...byWorkspace.values()];
}
