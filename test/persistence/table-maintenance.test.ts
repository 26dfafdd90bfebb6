import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTableMaintenance } from '../../src/persistence/table-maintenance.ts';
import { createPgliteTestDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';

const silent = pino({ level: 'silent' });
const INTERVALS = { postgres: 60_000, pglite: 60_000 };

/** When each table was last analyzed by a statement (not by autovacuum). */
async function lastAnalyzed(database: TestDatabase): Promise<Map<string, Date | null>> {
  const { rows } = await sql<{ table: string; at: Date | null }>`
    select relname as table, last_analyze as at
    from pg_stat_user_tables where schemaname = current_schema()`.execute(database.db);
  return new Map(rows.map((row) => [row.table, row.at]));
}

async function addInboundMessages(database: TestDatabase, count: number): Promise<void> {
  await sql`
    insert into messages (workspace_id, session_key, partition, direction, wamid, phone_number_id, customer_wa_id, type, body, payload, status, sent_at)
    select 'acme', 'k-' || g, 0, 'in', 'wamid.' || g, '1', '2', 'text', 'hello', '{}'::jsonb, 'received', now()
    from generate_series(1, ${sql.lit(count)}) g`.execute(database.db);
}

describe.each([
  { adapter: 'the test database', open: createTestDatabase },
  { adapter: 'PGlite', open: createPgliteTestDatabase },
])('table maintenance on $adapter', ({ open }) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await open();
    await sql`insert into workspaces (id, name) values ('acme', 'Acme')`.execute(database.db);
  });
  afterAll(async () => database?.close());

  it('analyzes a table that grew where no autovacuum runs, and leaves untouched ones alone', async () => {
    const { rows } = await sql<{ on: string }>`select current_setting('autovacuum') as on`.execute(
      database.db,
    );
    const autovacuum = database.kind === 'postgres' && rows[0]?.on === 'on';
    const maintenance = await createTableMaintenance({
      database: { db: database.db, dialect: database.kind, close: async () => {} },
      logger: silent,
      intervalMs: INTERVALS,
    });
    await addInboundMessages(database, 2_000);
    // Postgres publishes its table counters when a transaction ends: give them a moment.
    if (database.kind === 'postgres')
      await sql`select pg_stat_force_next_flush()`.execute(database.db).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 600));
    await maintenance.runOnce();

    const analyzed = await lastAnalyzed(database);
    if (autovacuum) {
      // Autovacuum's job here: the engine stays out of its way.
      expect(analyzed.get('messages')).toBeNull();
      return;
    }
    expect(analyzed.get('messages')).toBeInstanceOf(Date);
    const { rows: estimate } = await sql<{ rows: number }>`
      select reltuples::int as rows from pg_class where relname = 'messages' and relnamespace = current_schema()::regnamespace`.execute(
      database.db,
    );
    expect(estimate[0]?.rows).toBe(2_000);
    if (database.kind === 'postgres') expect(analyzed.get('knowledge_chunks')).toBeNull();
  });
});
