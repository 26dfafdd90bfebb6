import { type Kysely, sql } from 'kysely';
import type { SessionNotice } from '../actors/session-notice.ts';
import type { KnowledgeChunk } from '../knowledge/knowledge-search.ts';
import type { SessionContext } from '../machines/session.ts';
import { migrateSessionSnapshot } from '../machines/session-snapshot.ts';
import type { Database } from './schema.ts';

/** One message of a conversation, inbound or outbound, in arrival (insertion) order. */
export interface ConversationMessage {
  id: string;
  author: 'customer' | 'ai' | 'agent' | 'system';
  type: string;
  text: string | null;
  wamid: string | null;
}

/** Where a reader of a conversation got to: the last message and session event it has seen. */
export interface ConversationCursor {
  messageId: string;
  eventId: string;
}

export interface LatestSession {
  id: string;
  state: string;
  context: SessionContext;
}

/**
 * What a scenario run reads of one conversation (a session key, across its sessions): the messages and
 * committed session events since a cursor, and the newest session. Scoped by workspace like every query.
 */
export interface ConversationQueries {
  listSince(
    workspaceId: string,
    sessionKey: string,
    cursor: ConversationCursor,
  ): Promise<{ messages: ConversationMessage[]; notices: SessionNotice[]; cursor: ConversationCursor }>;
  /** The open session of the key, else the one closed last. */
  latestSession(workspaceId: string, sessionKey: string): Promise<LatestSession | undefined>;
  /** The knowledge chunks with these ids, to tell which documents and headings an answer rests on. */
  listChunks(workspaceId: string, chunkIds: readonly string[]): Promise<KnowledgeChunk[]>;
}

export const CONVERSATION_START: ConversationCursor = { messageId: '0', eventId: '0' };

export function createConversationQueries(db: Kysely<Database>): ConversationQueries {
  return {
    async listSince(workspaceId, sessionKey, cursor) {
      const messages = await db
        .selectFrom('messages')
        .select(['id', 'direction', 'author', 'type', 'body', 'wamid'])
        .where('workspace_id', '=', workspaceId)
        .where('session_key', '=', sessionKey)
        .where('id', '>', cursor.messageId)
        .orderBy('id')
        .execute();
      const events = await db
        .selectFrom('session_events')
        .innerJoin('sessions', (join) =>
          join
            .onRef('sessions.id', '=', 'session_events.session_id')
            .onRef('sessions.workspace_id', '=', 'session_events.workspace_id'),
        )
        .select(['session_events.id', 'session_events.payload'])
        .where('session_events.workspace_id', '=', workspaceId)
        .where('sessions.session_key', '=', sessionKey)
        .where('session_events.id', '>', cursor.eventId)
        // Delivery status events (status-events.ts) are no session notices.
        .where(sql`session_events.payload->>'type'`, 'is distinct from', 'message.status')
        .orderBy('session_events.id')
        .execute();
      return {
        messages: messages.map((row) => ({
          id: row.id,
          author: row.direction === 'in' ? 'customer' : (row.author ?? 'system'),
          type: row.type,
          text: row.body,
          wamid: row.wamid,
        })),
        notices: events.map((row) => row.payload as SessionNotice),
        cursor: {
          messageId: messages.at(-1)?.id ?? cursor.messageId,
          eventId: events.at(-1)?.id ?? cursor.eventId,
        },
      };
    },

    async latestSession(workspaceId, sessionKey) {
      const row = await db
        .selectFrom('sessions')
        .select(['id', 'state', 'snapshot', 'machine_version'])
        .where('workspace_id', '=', workspaceId)
        .where('session_key', '=', sessionKey)
        // At most one session of a key is open (closed_at null); after it, the one closed last.
        .orderBy('closed_at', (order) => order.desc().nullsFirst())
        .limit(1)
        .executeTakeFirst();
      if (!row) return undefined;
      const snapshot = migrateSessionSnapshot(row.snapshot, row.machine_version) as {
        context: SessionContext;
      };
      return { id: row.id, state: row.state, context: snapshot.context };
    },

    async listChunks(workspaceId, chunkIds) {
      if (chunkIds.length === 0) return [];
      const rows = await db
        .selectFrom('knowledge_chunks')
        .select(['id', 'document_id', 'title', 'heading', 'text'])
        .where('workspace_id', '=', workspaceId)
        .where('id', 'in', chunkIds)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        documentId: row.document_id,
        title: row.title,
        heading: row.heading,
        text: row.text,
      }));
    },
  };
}
