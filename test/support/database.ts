import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { createDatabase } from '../../src/persistence/database.ts';
import { migrateToLatest } from '../../src/persistence/migrate.ts';
import type { Database } from '../../src/persistence/schema.ts';
import { uniqueId } from './services.ts';

export interface TestDatabase {
  db: Kysely<Database>;
  kind: 'postgres' | 'pglite';
  /** The Postgres database's own URL, for a child process under test; absent on PGlite. */
  url?: string;
  /**
   * Postgres only: `false` takes the database away as an outage would (new connections refused, open ones
   * ended), `true` brings it back.
   */
  setReachable?(reachable: boolean): Promise<void>;
  close(): Promise<void>;
}

function postgresUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

let postgresReachable: Promise<boolean> | undefined;

/** Probed once per process: a missing server must not cost every test file another timeout. */
export function isPostgresReachable(): Promise<boolean> {
  postgresReachable ??= (async () => {
    const client = new pg.Client({ connectionString: postgresUrl(), connectionTimeoutMillis: 1_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresReachable;
}

/**
 * For `describe.each`: the same tests on Postgres and on PGlite. Postgres is skipped only off CI when it is not
 * running; in CI an unreachable Postgres is not a skip: createTestDatabase throws and says how to start it.
 */
export async function bothDatabases() {
  const runPostgres = (await isPostgresReachable()) || process.env.CI === 'true';
  return [
    { adapter: 'postgres', openDatabase: createTestDatabase, skip: !runPostgres },
    { adapter: 'pglite', openDatabase: createPgliteTestDatabase, skip: false },
  ] as const;
}

/** A fresh, migrated database of its own: Postgres when running, locally PGlite otherwise, in CI an error. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (await isPostgresReachable()) return createPostgresTestDatabase();
  if (process.env.CI === 'true') {
    throw new Error(
      `Postgres is required in CI but ${postgresUrl()} is not reachable. Start it with ` +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (or set DATABASE_URL).',
    );
  }
  return createPgliteTestDatabase();
}

/** Always PGlite in memory, migrated: lets a contract suite cover the embedded adapter too. */
export async function createPgliteTestDatabase(): Promise<TestDatabase> {
  const { db, close } = await createDatabase({ memory: true });
  await migrateToLatest(db);
  return { db, kind: 'pglite', close };
}

async function createPostgresTestDatabase(): Promise<TestDatabase> {
  const name = uniqueId('botrelic');
  await asAdmin(`create database ${name}`);
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  const { db, close } = await createDatabase({ url: url.href });
  try {
    await migrateToLatest(db);
  } catch (error) {
    await close();
    await asAdmin(`drop database ${name} with (force)`);
    throw error;
  }
  return {
    db,
    kind: 'postgres',
    url: url.href,
    async setReachable(reachable) {
      await asAdmin(`alter database ${name} with allow_connections ${reachable}`);
      if (!reachable) {
        await asAdmin(
          `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`,
        );
      }
    },
    async close() {
      await close();
      // FORCE: a child process under test may still hold a connection.
      await asAdmin(`drop database if exists ${name} with (force)`);
    },
  };
}

/** CREATE/DROP DATABASE cannot run inside the database itself, so they go through the `test` database. */
async function asAdmin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Empties `tables` and the workspaces (ids restart), then creates the two workspaces store tests use. */
export async function freshWorkspaces(db: Kysely<Database>, tables: readonly string[]): Promise<void> {
  await sql`truncate ${sql.raw([...tables, 'workspaces'].join(', '))} restart identity cascade`.execute(db);
  await db
    .insertInto('workspaces')
    .values([
      { id: 'acme', name: 'Acme' },
      { id: 'globex', name: 'Globex' },
    ])
    .execute();
}
