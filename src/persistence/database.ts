import { PGlite, types } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './schema.ts';

export interface DatabaseOptions {
  /** A Postgres connection string; without it the database is PGlite, embedded. */
  url?: string;
  /** Where PGlite keeps its files. */
  dataDir?: string;
  /** PGlite in memory: nothing survives `close()`. */
  memory?: boolean;
  /** Tables live in this schema (created if missing) instead of `public`. */
  schema?: string;
  /** Postgres: the most connections the pool opens (pg's default is 10). */
  poolSize?: number;
  /**
   * Postgres: how long getting a connection, and then each statement, may take before it fails. Without it a
   * database that hangs (rather than refusing connections) is waited for as long as TCP takes to give up.
   */
  timeoutMs?: number;
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: 'postgres' | 'pglite';
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name "${schema}": use lowercase letters, digits and "_"`);
  }
  return options.url ? openPostgres(options.url, schema, options) : openPglite(options, schema);
}

/**
 * Whether the database refused the data rather than failed: SQLSTATE class 22 (data exception: a value out
 * of range, a byte sequence it cannot store) or 54 (program limit exceeded: an index entry too large). The
 * same data is refused on every retry, so it is the request's fault, not an outage.
 */
export function isDataRefusal(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return error instanceof Error && typeof code === 'string' && /^(?:22|54)[0-9A-Z]{3}$/.test(code);
}

/** Readiness: resolves when the database answers a query, rejects otherwise. */
export async function checkDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

async function openPostgres(
  url: string,
  schema: string | undefined,
  { poolSize, timeoutMs }: DatabaseOptions,
): Promise<DatabaseHandle> {
  // pg already reads int8 as string (our ids) and timestamptz as Date, which is what schema.ts declares.
  const pool = new pg.Pool({
    connectionString: url,
    ...(poolSize === undefined ? {} : { max: poolSize }),
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    ...(timeoutMs === undefined
      ? {}
      : {
          connectionTimeoutMillis: timeoutMs,
          // The client gives up on a statement the network holds; the server stops one it is still running,
          // so an abandoned statement does not keep its locks.
          query_timeout: timeoutMs,
          statement_timeout: timeoutMs,
          keepAlive: true,
        }),
  });
  // A connection dropped by the server must not crash the process: the next query fails instead, and that
  // failure reaches the caller (the gateway answers 5xx, readiness goes red). The pool listens on idle
  // connections only; a checked-out one emits 'error' too (beside failing its query), so each gets a listener.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
    prepareRepeatedStatements(client);
    if (timeoutMs !== undefined) dropOnTimeout(client);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  if (schema !== undefined) {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db).catch(async (error: unknown) => {
      await db.destroy();
      throw error;
    });
  }
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/**
 * A statement that timed out may still be running on the connection, and pg would queue the connection's next
 * statements behind it: the connection is closed instead, so the pool discards it and opens a fresh one. (pg
 * does the same itself for a connection that times out while connecting.)
 */
function dropOnTimeout(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    const result = query(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (error instanceof Error && error.message === 'Query read timeout') {
          (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        }
      });
    }
    return result;
  }) as typeof client.query;
}

/** Enough for every statement the engine runs; one built per batch size beyond it runs unprepared. */
const MAX_PREPARED_STATEMENTS = 500;

/**
 * Names each distinct statement text the first time a connection runs it, so Postgres parses and plans it
 * once per connection instead of on every run (kysely sends unnamed statements). The engine runs a few dozen
 * texts over and over, with new values each time: parsing and planning them was a large part of Postgres'
 * CPU per message.
 */
function prepareRepeatedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const names = new Map<string, string>();
  client.query = ((text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (typeof text !== 'string' || !Array.isArray(values) || rest.length > 0)
      return query(text, values, ...rest);
    let name = names.get(text);
    if (name === undefined && names.size < MAX_PREPARED_STATEMENTS) {
      name = `botrelic_${names.size}`;
      names.set(text, name);
    }
    return name === undefined ? query(text, values) : query({ name, text, values });
  }) as typeof client.query;
}

async function openPglite(options: DatabaseOptions, schema: string | undefined): Promise<DatabaseHandle> {
  if (!options.memory && !options.dataDir) {
    throw new Error('createDatabase needs a url (Postgres), a dataDir (PGlite on disk) or memory: true');
  }
  // Read int8 as string like pg does, so ids look the same on both dialects.
  const pgOptions = { parsers: { [types.INT8]: (value: string) => value } };
  const pglite = options.memory
    ? await PGlite.create(pgOptions)
    : await PGlite.create(options.dataDir!, pgOptions);
  if (schema !== undefined) {
    // PGlite has a single connection, so a session-level setting holds for every query.
    await pglite.exec(`create schema if not exists ${schema}; set search_path to ${schema}`);
  }
  // kysely-pglite-dialect hands its one connection to one caller at a time and queues the others until
  // release, so concurrent `db.transaction()` calls run one after another instead of interleaving.
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return { db, dialect: 'pglite', close: () => db.destroy() };
}
