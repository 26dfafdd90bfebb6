import { type Kysely, sql } from 'kysely';
import type { SessionContext } from '../machines/session.ts';
import { migrateSessionSnapshot } from '../machines/session-snapshot.ts';
import type { Database, MessageStatus, SessionRow } from './schema.ts';

/** A session as the inbox reads it: the row's address and state with the machine context of its snapshot. */
export interface InboxSession {
  id: string;
  workspaceId: string;
  sessionKey: string;
  partition: number;
  phoneNumberId: string;
  customerWaId: string;
  state: string;
  version: number;
  context: SessionContext;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
}

export interface TranscriptMessage {
  id: string;
  direction: 'in' | 'out';
  author: 'customer' | 'ai' | 'agent' | 'system';
  type: string;
  text: string | null;
  status: MessageStatus;
  wamid: string | null;
  sentAt: number;
  error: { code: number | null; title: string | null } | null;
}

export interface StoredSessionEvent {
  id: string;
  sessionId: string;
  payload: unknown;
}

/** What the agent API reads. Every query takes the workspace: a session of another workspace does not exist here. */
export interface InboxQueries {
  /** Open sessions waiting for a person or owned by one. */
  listHandoffSessions(workspaceId: string): Promise<InboxSession[]>;
  findSession(workspaceId: string, sessionId: string): Promise<InboxSession | undefined>;
  /** The session's messages in conversation order, with delivery statuses. */
  listTranscript(workspaceId: string, sessionId: string): Promise<TranscriptMessage[]>;
  /**
   * The committed changes of one session, oldest first: all of them, or for a very long session the newest
   * SESSION_EVENTS_LIMIT, so its latest decisions and handoffs are the ones shown. Delivery status events
   * (status-events.ts) are not changes of the session: the transcript carries the statuses.
   */
  listSessionEvents(workspaceId: string, sessionId: string): Promise<StoredSessionEvent[]>;
  /** The workspace's session events after `afterId`, in id order (which is commit order per workspace). */
  listEventsAfter(workspaceId: string, afterId: string, limit: number): Promise<StoredSessionEvent[]>;
  /** The newest session event id of the workspace, or "0". */
  latestEventId(workspaceId: string): Promise<string>;
  /** Whether the agent takes auto-assigned sessions. */
  isAvailable(workspaceId: string, agentId: string): Promise<boolean>;
  setAvailable(workspaceId: string, agentId: string, available: boolean): Promise<void>;
  /** Active agents marked available, by id: the round-robin order; capacity null takes the workspace's. */
  listAvailableAgents(
    workspaceId: string,
  ): Promise<{ agentId: string; teamIds: string[]; capacity: number | null }[]>;
}

const HANDOFF_STATES = ['fallback', 'human'];
/** How many of a session's changes the session view reads at most. */
export const SESSION_EVENTS_LIMIT = 5_000;

export function createInboxQueries(db: Kysely<Database>): InboxQueries {
  return {
    async listHandoffSessions(workspaceId) {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('state', 'in', HANDOFF_STATES)
        .where('closed_at', 'is', null)
        .execute();
      return rows.map(toInboxSession);
    },

    async findSession(workspaceId, sessionId) {
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', sessionId)
        .executeTakeFirst();
      return row && toInboxSession(row);
    },

    async listTranscript(workspaceId, sessionId) {
      const rows = await db
        .selectFrom('messages')
        .select(['id', 'direction', 'author', 'type', 'body', 'status', 'wamid', 'sent_at'])
        .select(['error_code', 'error_title'])
        .where('workspace_id', '=', workspaceId)
        .where('session_id', '=', sessionId)
        .orderBy('sent_at')
        .orderBy('id')
        .execute();
      return rows.map((row) => ({
        id: row.id,
        direction: row.direction,
        author: row.author ?? 'customer',
        type: row.type,
        text: row.body,
        status: row.status,
        wamid: row.wamid,
        sentAt: row.sent_at.getTime(),
        error:
          row.error_code === null && row.error_title === null
            ? null
            : { code: row.error_code, title: row.error_title },
      }));
    },

    async listSessionEvents(workspaceId, sessionId) {
      const rows = await db
        .selectFrom('session_events')
        .select(['id', 'session_id', 'payload'])
        .where('workspace_id', '=', workspaceId)
        .where('session_id', '=', sessionId)
        .where(sql`payload->>'type'`, 'is distinct from', 'message.status')
        .orderBy('id', 'desc')
        .limit(SESSION_EVENTS_LIMIT)
        .execute();
      return rows.reverse().map(toStoredEvent);
    },

    async listEventsAfter(workspaceId, afterId, limit) {
      const rows = await db
        .selectFrom('session_events')
        .select(['id', 'session_id', 'payload'])
        .where('workspace_id', '=', workspaceId)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toStoredEvent);
    },

    async latestEventId(workspaceId) {
      const row = await db
        .selectFrom('session_events')
        .select((eb) => eb.fn.max('id').as('id'))
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirst();
      return row?.id ?? '0';
    },

    async isAvailable(workspaceId, agentId) {
      const row = await db
        .selectFrom('human_agents')
        .select('available')
        .where('workspace_id', '=', workspaceId)
        .where('agent_id', '=', agentId)
        .executeTakeFirst();
      return row?.available ?? false;
    },

    async setAvailable(workspaceId, agentId, available) {
      await db
        .updateTable('human_agents')
        .set({ available })
        .where('workspace_id', '=', workspaceId)
        .where('agent_id', '=', agentId)
        .execute();
    },

    async listAvailableAgents(workspaceId) {
      const rows = await db
        .selectFrom('human_agents')
        .select(['agent_id', 'team_ids', 'capacity'])
        .where('workspace_id', '=', workspaceId)
        .where('active', '=', true)
        .where('available', '=', true)
        .orderBy('agent_id')
        .execute();
      return rows.map((row) => ({ agentId: row.agent_id, teamIds: row.team_ids, capacity: row.capacity }));
    },
  };
}

function toInboxSession(row: SessionRow): InboxSession {
  const snapshot = migrateSessionSnapshot(row.snapshot, row.machine_version) as { context: SessionContext };
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    sessionKey: row.session_key,
    partition: row.partition,
    phoneNumberId: row.phone_number_id,
    customerWaId: row.customer_wa_id,
    state: row.state,
    version: row.version,
    context: snapshot.context,
    createdAt: row.created_at.getTime(),
    updatedAt: row.updated_at.getTime(),
    closedAt: row.closed_at?.getTime() ?? null,
  };
}

function toStoredEvent(row: { id: string; session_id: string; payload: unknown }): StoredSessionEvent {
  return { id: row.id, sessionId: row.session_id, payload: row.payload };
}
