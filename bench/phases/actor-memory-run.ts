import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ActorMemoryResult, RESULT_MARK } from '../memory/actor-memory-result.ts';
import type { EngineMode } from '../services/engine-process.ts';
import { createBenchDatabase, dropBenchDatabase } from '../support/postgres.ts';

/** Runs bench/memory/actor-memory.ts in a child with --expose-gc, on a database of its own. */
export async function measureActorMemory(options: {
  mode: EngineMode;
  sessions: number;
  rehydrations: number;
  runId: string;
  timeoutMs: number;
}): Promise<ActorMemoryResult> {
  const databaseName = `botrelic_bench_${options.runId}_${options.mode}_memory`;
  const dataDir =
    options.mode === 'embedded' ? await mkdtemp(join(tmpdir(), 'botrelic-bench-memory-')) : undefined;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    LOG_LEVEL: 'warn',
    // The bench's numbers are production ones: the engine refuses to start without an app secret.
    WHATSAPP_APP_SECRET: 'bench-app-secret-not-meta',
    // Nothing leaves the machine: the typing indicator's Graph calls meet a closed local port and fail.
    WHATSAPP_GRAPH_URL: 'http://127.0.0.1:9/v23.0',
    BENCH_SESSIONS: String(options.sessions),
    BENCH_REHYDRATIONS: String(options.rehydrations),
    ...(options.mode === 'services'
      ? { DATABASE_URL: await createBenchDatabase(databaseName), NATS_URL: 'nats://127.0.0.1:4222' }
      : { BOTRELIC_DATA_DIR: dataDir }),
  };
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, '../memory/actor-memory.ts')],
      { env, timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 },
    );
    const line = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_MARK));
    if (!line) throw new Error(`the actor memory measurement printed no result:\n${stdout.slice(-2_000)}`);
    return JSON.parse(line.slice(RESULT_MARK.length)) as ActorMemoryResult;
  } finally {
    if (options.mode === 'services') await dropBenchDatabase(databaseName);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}
