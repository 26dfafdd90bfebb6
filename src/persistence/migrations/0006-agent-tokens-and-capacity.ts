import type { Kysely } from 'kysely';

// Written once, never edited: later changes are new migrations.
export async function up(db: Kysely<unknown>): Promise<void> {
  // An agent the config no longer names keeps its row (sessions name it) but gives up its token hash: the
  // token may now belong to someone else, or to the same person under a new id, and the hash is unique.
  await db.schema
    .alterTable('human_agents')
    .alterColumn('token_hash', (col) => col.dropNotNull())
    .execute();
  // Sessions an agent holds before auto-assignment passes them by; null takes the workspace's handoff.capacity.
  await db.schema.alterTable('human_agents').addColumn('capacity', 'integer').execute();
}
