import pg from 'pg';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** The synchronous_commit setting the server runs with: the targets assume `on` (durable 200s). */
export async function synchronousCommit(): Promise<string> {
  return withAdmin(
    async (client) => (await client.query('show synchronous_commit')).rows[0].synchronous_commit,
  );
}

/** A database of its own for one engine run; its URL. */
export async function createBenchDatabase(name: string): Promise<string> {
  if (!/^botrelic_bench_[a-z0-9_]+$/.test(name)) throw new Error(`not a bench database name: ${name}`);
  await withAdmin((client) => client.query(`create database ${name}`));
  return `postgres://postgres@127.0.0.1:5432/${name}`;
}

export async function dropBenchDatabase(name: string): Promise<void> {
  if (!/^botrelic_bench_[a-z0-9_]+$/.test(name)) throw new Error(`not a bench database name: ${name}`);
  await withAdmin((client) => client.query(`drop database if exists ${name} with (force)`));
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
