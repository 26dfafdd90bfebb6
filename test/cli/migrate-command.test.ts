import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/persistence/database.ts';
import { migrations } from '../../src/persistence/migrations/index.ts';
import { runCli, tempDir } from '../support/cli-process.ts';

describe('botrelic migrate', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await dir?.remove();
  });

  it('applies every migration to the embedded database once, then has nothing to do', async () => {
    const dataDir = join(dir.path, 'data');
    const first = await runCli(['migrate'], { BOTRELIC_DATA_DIR: dataDir });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(`applied: ${Object.keys(migrations).join(', ')}\n`);

    const again = await runCli(['migrate'], { BOTRELIC_DATA_DIR: dataDir });
    expect(again).toMatchObject({ code: 0, stdout: 'already up to date\n', stderr: '' });

    const database = await createDatabase({ dataDir });
    try {
      const { rows } = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = 'public'`.execute(database.db);
      expect(rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining(['workspaces', 'sessions', 'messages', 'outbox', 'kysely_migration']),
      );
    } finally {
      await database.close();
    }
  }, 60_000);

  it('says why it cannot reach the database, exit code 1', async () => {
    const { code, stdout, stderr } = await runCli(['migrate'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('botrelic: connect ECONNREFUSED 127.0.0.1:1\n');
  }, 60_000);
});
