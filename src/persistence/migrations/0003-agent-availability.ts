import { type Kysely, sql } from 'kysely';

// Written once, never edited: later changes are new migrations.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Set by the agent in the inbox, not by the config: the config sync leaves it alone. Off until an agent
  // says otherwise, so auto-assignment never hands sessions to someone who is not there.
  await db.schema
    .alterTable('human_agents')
    .addColumn('available', 'boolean', (col) => col.notNull().defaultTo(sql`false`))
    .execute();
}
