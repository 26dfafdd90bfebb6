import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDatabase, createDatabase, type DatabaseHandle } from '../../src/persistence/database.ts';
import { migrateToLatest } from '../../src/persistence/migrate.ts';
import { migrations } from '../../src/persistence/migrations/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('PGlite', () => {
  let pglite: DatabaseHandle;

  beforeAll(async () => {
    pglite = await createDatabase({ memory: true });
  });

  afterAll(async () => {
    await pglite?.close();
  });

  it('runs concurrent transactions one after another on its single connection', async () => {
    const { db } = pglite;
    await sql`create table counter (n integer not null)`.execute(db);
    await sql`insert into counter values (0)`.execute(db);
    // Read, yield to the event loop, write: interleaved transactions would lose increments.
    const increment = () =>
      db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ n: number }>`select n from counter`.execute(trx);
        await sleep(1);
        await sql`update counter set n = ${rows[0]!.n + 1}`.execute(trx);
      });
    await Promise.all(Array.from({ length: 20 }, increment));
    const { rows } = await sql<{ n: number }>`select n from counter`.execute(db);
    expect(rows[0]!.n).toBe(20);
  });

  it('rolls back a failed transaction and hands the connection on', async () => {
    const { db } = pglite;
    await sql`create table note (text text not null)`.execute(db);
    const failing = db.transaction().execute(async (trx) => {
      await sql`insert into note values ('lost')`.execute(trx);
      throw new Error('boom');
    });
    const next = db.transaction().execute((trx) => sql`insert into note values ('kept')`.execute(trx));
    await expect(failing).rejects.toThrow('boom');
    await next;
    const { rows } = await sql<{ text: string }>`select text from note`.execute(db);
    expect(rows).toEqual([{ text: 'kept' }]);
  });

  it('keeps its data in dataDir across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'botrelic-pglite-'));
    try {
      const first = await createDatabase({ dataDir });
      expect(await migrateToLatest(first.db)).toEqual(Object.keys(migrations));
      await first.db.insertInto('workspaces').values({ id: 'acme', name: 'Acme' }).execute();
      await first.close();

      const second = await createDatabase({ dataDir });
      expect(await migrateToLatest(second.db)).toEqual([]);
      expect(await second.db.selectFrom('workspaces').select('name').execute()).toEqual([{ name: 'Acme' }]);
      await second.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('takes a migration numbered before one it already ran (migrations written side by side)', async () => {
    const database = await createDatabase({ memory: true });
    try {
      const names = Object.keys(migrations);
      const skipped = names.at(-2)!;
      const without = Object.fromEntries(Object.entries(migrations).filter(([name]) => name !== skipped));
      await new Migrator({
        db: database.db,
        provider: { getMigrations: async () => without },
        migrationTableSchema: 'public',
      }).migrateToLatest();
      expect(await migrateToLatest(database.db)).toEqual([skipped]);
    } finally {
      await database.close();
    }
  });

  it('asks for a place to keep data rather than silently keeping none', async () => {
    await expect(createDatabase({})).rejects.toThrow(/url.*dataDir.*memory/);
  });
});

describe('createDatabase', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database?.close();
  });

  it('reports readiness, and unreadiness once closed', async () => {
    const { db, close } = await createDatabase(database.url ? { url: database.url } : { memory: true });
    await expect(checkDatabase(db)).resolves.toBeUndefined();
    await close();
    await expect(checkDatabase(db)).rejects.toThrow();
  });

  it('puts tables and migration records in the schema it was given', async () => {
    const options = database.url ? { url: database.url } : { memory: true };
    const { db, close } = await createDatabase({ ...options, schema: 'tenant_two' });
    try {
      expect(await migrateToLatest(db)).toEqual(Object.keys(migrations));
      const { rows } = await sql<{ table_name: string }>`
        select table_name from information_schema.tables
        where table_schema = 'tenant_two' and table_name in ('sessions', 'kysely_migration')
        order by table_name`.execute(db);
      expect(rows.map((row) => row.table_name)).toEqual(['kysely_migration', 'sessions']);
    } finally {
      await close();
    }
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(createDatabase({ memory: true, schema: 'x; drop table y' })).rejects.toThrow(
      /invalid schema/,
    );
  });
});
