import { type Kysely, type Selectable, sql } from 'kysely';
import { Batcher } from './batcher.ts';
import type { Database, MessagesTable, SessionRow } from './schema.ts';

interface KeyRef {
  workspaceId: string;
  sessionKey: string;
}

/**
 * The two reads every delivered message starts with (its conversation's open session, its pending inbound
 * rows), batched across conversations: concurrent mailboxes share one query instead of taking a pooled
 * connection each.
 */
export function createBatchedSessionReads(db: Kysely<Database>) {
  const openSessions = new Batcher<KeyRef, SessionRow | undefined>({
    maxBatchSize: 500,
    run: async (refs) => {
      const { rows } = await sql<SessionRow>`
        select s.* from sessions as s
        join unnest(${refs.map((ref) => ref.workspaceId)}::text[], ${refs.map((ref) => ref.sessionKey)}::text[])
          as k(workspace_id, session_key)
          on s.workspace_id = k.workspace_id and s.session_key = k.session_key
        where s.closed_at is null`.execute(db);
      const byKey = new Map(rows.map((row) => [keyOf(row.workspace_id, row.session_key), row]));
      return refs.map((ref) => ({ ok: true, value: byKey.get(keyOf(ref.workspaceId, ref.sessionKey)) }));
    },
  });

  const pendingInbound = new Batcher<KeyRef, Selectable<MessagesTable>[]>({
    maxBatchSize: 500,
    run: async (refs) => {
      const { rows } = await sql<Selectable<MessagesTable>>`
        select m.* from messages as m
        join unnest(${refs.map((ref) => ref.workspaceId)}::text[], ${refs.map((ref) => ref.sessionKey)}::text[])
          as k(workspace_id, session_key)
          on m.workspace_id = k.workspace_id and m.session_key = k.session_key
        where m.direction = 'in' and m.applied_at is null
        order by m.sent_at, m.id`.execute(db);
      const byKey = new Map<string, Selectable<MessagesTable>[]>();
      for (const row of rows) {
        const key = keyOf(row.workspace_id, row.session_key);
        byKey.set(key, [...(byKey.get(key) ?? []), row]);
      }
      return refs.map((ref) => ({
        ok: true,
        value: byKey.get(keyOf(ref.workspaceId, ref.sessionKey)) ?? [],
      }));
    },
  });

  return {
    loadOpenSession: (workspaceId: string, sessionKey: string) =>
      openSessions.submit({ workspaceId, sessionKey }),
    /** In Meta timestamp order, then arrival order (identity ids grow in insertion order). */
    listPendingInbound: (workspaceId: string, sessionKey: string) =>
      pendingInbound.submit({ workspaceId, sessionKey }),
  };
}

function keyOf(workspaceId: string, sessionKey: string): string {
  return `${workspaceId}\u0000${sessionKey}`;
}
