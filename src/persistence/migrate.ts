import { type Kysely, Migrator, sql } from 'kysely';
import { migrationProvider } from './migrations/index.ts';
import type { Database } from './schema.ts';

/** Applies every pending migration and returns the names applied (none when already up to date). */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    // Pinned to the schema that unqualified names resolve to: without it, kysely would take a migration
    // table in any schema (say `public`) as ours when the connection's search_path points elsewhere.
    migrationTableSchema: await currentSchema(db),
    // Migrations written side by side land in either order; each touches tables of its own, so a database that
    // ran a later-numbered one first still takes the other.
    allowUnorderedMigrations: true,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName ?? 'setup';
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration "${failed}" failed and the whole run was rolled back: ${reason}`, {
      cause: error,
    });
  }
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

async function currentSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema)
    throw new Error('the database has no current schema: the search_path names no existing schema');
  return schema;
}
