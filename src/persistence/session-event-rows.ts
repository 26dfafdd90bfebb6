import { sql, type Transaction } from 'kysely';
import type { Database } from './schema.ts';
import { EVENTS_LOCK } from './session-rows.ts';

/** A session event to store: the payload is JSON text (session-rows.ts `toJson`). */
export interface NewSessionEvent {
  workspaceId: string;
  sessionId: string;
  payload: string;
}

/**
 * Inserts session events, in order, and returns their ids in the same order. Event ids are a live inbox's
 * resume cursor (SSE Last-Event-ID): taken under a per-workspace lock held until commit, a workspace's ids
 * become visible in increasing order, so a reader that sees id N has every earlier one and resuming after N
 * skips nothing. The lock is taken inside the insert, before its first id (an init plan runs before the first
 * row reaches the insert): one round trip fewer held under it than a statement of its own, which every writer
 * of the workspace queues behind. Callers make this their transaction's last statement, so the lock is held
 * for the commit only; the workspaces are locked in one order, so two transactions never wait in a cycle.
 */
export async function insertSessionEvents(
  trx: Transaction<Database>,
  events: readonly NewSessionEvent[],
): Promise<string[]> {
  if (events.length === 0) return [];
  const workspaces = [...new Set(events.map((event) => event.workspaceId))].sort();
  const { rows } = await sql<{ id: string }>`
    insert into session_events (workspace_id, session_id, payload)
    select e.workspace_id, e.session_id, e.payload::jsonb
    from unnest(
      ${events.map((event) => event.workspaceId)}::text[],
      ${events.map((event) => event.sessionId)}::text[],
      ${events.map((event) => event.payload)}::text[]
    ) with ordinality as e(workspace_id, session_id, payload, position)
    where (
      select count(*) from (
        select pg_advisory_xact_lock(${sql.lit(EVENTS_LOCK)}, hashtext(w.workspace_id))
        from unnest(${workspaces}::text[]) with ordinality as w(workspace_id, position)
        order by w.position
      ) as locked
    ) = ${sql.lit(workspaces.length)}
    order by e.position
    returning id`.execute(trx);
  if (rows.length !== events.length) {
    throw new Error(`stored ${rows.length} of ${events.length} session events`);
  }
  // Identity ids follow the order rows reached the insert, which is the sorted input order.
  return rows.map((row) => row.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
}
