import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseHandle } from './database.ts';
import type { Database } from './schema.ts';

/**
 * What autovacuum does for a Postgres that runs it, done by the engine where nothing else does: PGlite has no
 * autovacuum daemon, and a Postgres may have it turned off. Without statistics the planner guesses row counts,
 * and its guesses for tables that grow by thousands of rows a minute made batched joins scan every pending row
 * per key; without vacuum, tables rewritten on every transition (sessions, outbox) only ever grow.
 */
export interface TableMaintenance {
  /** Looks at the tables once and analyzes or vacuums those that need it. */
  runOnce(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

export interface TableMaintenanceOptions {
  database: DatabaseHandle;
  logger: Logger;
  /** How often to look: counters are cheap to read on Postgres; PGlite's passes do the work every time. */
  intervalMs: { postgres: number; pglite: number };
}

/** Autovacuum's own defaults: a table is analyzed after 50 + 10% of its rows changed, vacuumed after 50 + 20% died. */
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 0.1;
const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE = 0.2;

/** Postgres with autovacuum on needs nothing from us; the returned maintenance then does nothing. */
export async function createTableMaintenance(options: TableMaintenanceOptions): Promise<TableMaintenance> {
  const { database, logger } = options;
  const pass =
    database.dialect === 'pglite'
      ? () => maintainEverything(database.db)
      : (await autovacuumIsOn(database.db))
        ? undefined
        : () => maintainByStatistics(database.db);
  if (pass === undefined) {
    return { runOnce: async () => {}, start() {}, stop: async () => {} };
  }
  logger.info(
    { dialect: database.dialect },
    'no autovacuum runs on this database: the engine analyzes and vacuums its own tables',
  );

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  // One pass at a time, whoever asks.
  const runOnce = () => {
    const run = running.then(pass);
    running = run.catch(() => undefined);
    return run;
  };
  const intervalMs = options.intervalMs[database.dialect];
  return {
    runOnce,
    start() {
      timer ??= setInterval(() => {
        runOnce().catch((error: unknown) => logger.warn({ err: error }, 'table maintenance failed'));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

async function autovacuumIsOn(db: Kysely<Database>): Promise<boolean> {
  const { rows } = await sql<{ setting: string }>`select current_setting('autovacuum') as setting`.execute(
    db,
  );
  return rows[0]?.setting === 'on';
}

/** Postgres keeps per-table counts of changed and dead rows: act on them as autovacuum would. */
async function maintainByStatistics(db: Kysely<Database>): Promise<void> {
  const { rows } = await sql<{ table: string; analyze: boolean; vacuum: boolean }>`
    select relname as table,
      n_mod_since_analyze > ${sql.lit(ANALYZE_THRESHOLD)} + ${sql.lit(ANALYZE_SCALE)} * n_live_tup as analyze,
      n_dead_tup > ${sql.lit(VACUUM_THRESHOLD)} + ${sql.lit(VACUUM_SCALE)} * n_live_tup as vacuum
    from pg_stat_user_tables
    where schemaname = current_schema()`.execute(db);
  for (const { table, analyze, vacuum } of rows) {
    if (vacuum) await sql`vacuum (analyze) ${sql.id(table)}`.execute(db);
    else if (analyze) await sql`analyze ${sql.id(table)}`.execute(db);
  }
}

/**
 * PGlite does not publish those counts (its statistics are never flushed), so every table is vacuumed and
 * analyzed on each pass: cheap for an embedded database's size, as ANALYZE reads a bounded sample and VACUUM
 * skips pages that have not changed since the last one.
 */
async function maintainEverything(db: Kysely<Database>): Promise<void> {
  await sql`vacuum (analyze)`.execute(db);
}
