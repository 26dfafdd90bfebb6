import { type Kysely, sql } from 'kysely';
import type { TemplateMessage } from '../machines/session.ts';
import type { Database, MessageStatus } from './schema.ts';

/** A message the engine sent to a sandbox customer, as the sandbox shows it. */
export interface SandboxOutboxMessage {
  id: string;
  sessionId: string | null;
  phoneNumberId: string;
  /** The customer's wa_id. */
  to: string;
  author: 'ai' | 'agent' | 'system';
  type: string;
  /** The text of a text message; null for a template. */
  text: string | null;
  template: TemplateMessage | null;
  status: MessageStatus;
  wamid: string | null;
  error: { code: number | null; title: string | null } | null;
  /** When the session wrote it. */
  createdAt: number;
  /** When the sandbox took it; null while pending or when it failed. */
  sentAt: number | null;
}

export interface SandboxOutboxFilter {
  /** Only messages to this customer. */
  to?: string;
  /** Only messages after this id, oldest first; without it, the newest `limit`. */
  after?: string;
  limit: number;
}

/** Reads of the sandbox outbox: outbound message rows of a workspace's sandbox numbers. */
export function createSandboxOutboxQueries(db: Kysely<Database>) {
  return {
    /** Newest last. Only the numbers named (the workspace's sandbox numbers), only this workspace's. */
    async list(
      workspaceId: string,
      phoneNumberIds: readonly string[],
      { to, after, limit }: SandboxOutboxFilter,
    ): Promise<SandboxOutboxMessage[]> {
      if (phoneNumberIds.length === 0) return [];
      const rows = await db
        .selectFrom('messages')
        .innerJoin('outbox', (join) =>
          join
            .onRef('outbox.message_id', '=', 'messages.id')
            .onRef('outbox.workspace_id', '=', 'messages.workspace_id'),
        )
        .select([
          'messages.id',
          'messages.session_id',
          'messages.phone_number_id',
          'messages.customer_wa_id',
          'messages.author',
          'messages.type',
          'messages.body',
          'messages.payload',
          'messages.status',
          'messages.wamid',
          'messages.error_code',
          'messages.error_title',
          'messages.sent_at',
          'outbox.sent_at as outbox_sent_at',
        ])
        .where('messages.workspace_id', '=', workspaceId)
        .where('messages.direction', '=', sql.lit('out'))
        .where('messages.phone_number_id', 'in', phoneNumberIds)
        .$if(to !== undefined, (query) => query.where('messages.customer_wa_id', '=', to!))
        .$if(after !== undefined, (query) => query.where('messages.id', '>', after!))
        .orderBy('messages.id', after === undefined ? 'desc' : 'asc')
        .limit(limit)
        .execute();
      if (after === undefined) rows.reverse();
      return rows.map((row) => ({
        id: row.id,
        sessionId: row.session_id,
        phoneNumberId: row.phone_number_id,
        to: row.customer_wa_id,
        // Outbound rows always say who wrote them (a check constraint says so).
        author: row.author!,
        type: row.type,
        text: row.type === 'template' ? null : row.body,
        template: row.type === 'template' ? templateOf(row.payload) : null,
        status: row.status,
        wamid: row.wamid,
        error:
          row.error_code === null && row.error_title === null
            ? null
            : { code: row.error_code, title: row.error_title },
        createdAt: row.sent_at.getTime(),
        sentAt: row.outbox_sent_at?.getTime() ?? null,
      }));
    },
  };
}

export type SandboxOutboxQueries = ReturnType<typeof createSandboxOutboxQueries>;

/** Back from Meta's wire format (actor-host.ts `toOutboundIntent`) to the session's. */
function templateOf(payload: unknown): TemplateMessage {
  const { template } = payload as {
    template: { name: string; language: { code: string }; components?: Record<string, unknown>[] };
  };
  return {
    name: template.name,
    language: template.language.code,
    ...(template.components && { components: template.components }),
  };
}
