import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export interface OpenSessionCount {
  workspaceId: string;
  state: string;
  sessions: number;
}

/** Open sessions of these partitions, by workspace and state: one grouped count, for a metrics scrape. */
export async function countOpenSessions(
  db: Kysely<Database>,
  partitions: readonly number[],
): Promise<OpenSessionCount[]> {
  if (partitions.length === 0) return [];
  const rows = await db
    .selectFrom('sessions')
    .select(['workspace_id', 'state', (eb) => eb.fn.countAll<string>().as('sessions')])
    .where('closed_at', 'is', null)
    .where('partition', 'in', partitions)
    .groupBy(['workspace_id', 'state'])
    .execute();
  return rows.map((row) => ({
    workspaceId: row.workspace_id,
    state: row.state,
    sessions: Number(row.sessions),
  }));
}
