import type { Logger } from 'pino';
import { ManualClock } from '../../src/clock/manual-clock.ts';
import type { BotrelicConfig } from '../../src/config/workspace-config.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startTestEngine, type TestEngine } from './engine.ts';
import { WEBHOOK_ENV } from './meta-webhook.ts';
import { connectTestTransport } from './services.ts';

/** Shortly after the shared Meta fixtures were sent (2025-06-08T21:46:40Z): none of them is stale yet. */
export const FIXTURE_TIME = 1_749_416_800_000;

export interface TestGateway extends TestEngine {
  /** `http://127.0.0.1:<port>` of the real server. */
  baseUrl: string;
  database: TestDatabase;
  /** Inbound and outbound message rows of every workspace. */
  countMessages(): Promise<number>;
  /** A metric's value as /metrics shows it (a counter's total, a histogram's count). */
  metric(name: string): Promise<number>;
  close(): Promise<void>;
}

/** The whole engine on its own database and transport, its gateway listening on a free port. */
export async function startTestGateway(
  options: {
    config?: BotrelicConfig;
    env?: Record<string, string>;
    logger?: Logger;
    agent?: Parameters<typeof startTestEngine>[0]['agent'];
    /**
     * Postgres only: the engine opens its own connection pools (as `serve` does, with the environment's
     * settings) at the URL this makes from the test database's, e.g. through a proxy.
     */
    databaseUrl?: (url: string) => string;
    /** Another engine's database, e.g. to start again after a restart; the caller closes it. */
    database?: TestDatabase;
    /** Wraps the engine's transport, e.g. to make sessions unreachable for a while (session-gate.ts). */
    transport?: (transport: Transport) => Transport;
  } = {},
): Promise<TestGateway> {
  const database = options.database ?? (await createTestDatabase());
  const transport = await connectTestTransport();
  const env = options.env ?? WEBHOOK_ENV;
  if (options.databaseUrl && !database.url) throw new Error('databaseUrl needs a Postgres test database');
  const engine = await startTestEngine({
    database: options.databaseUrl ? undefined : database,
    transport: options.transport ? options.transport(transport.transport) : transport.transport,
    clock: new ManualClock(FIXTURE_TIME),
    config: options.config,
    env: options.databaseUrl ? { ...env, DATABASE_URL: options.databaseUrl(database.url!) } : env,
    logger: options.logger,
    agent: options.agent,
  });
  const baseUrl = await engine.engine.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    ...engine,
    baseUrl,
    database,
    async countMessages() {
      const row = await database.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
    async metric(name) {
      const text = await (await fetch(`${baseUrl}/metrics`)).text();
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
      return line === undefined ? 0 : Number(line.slice(name.length + 1));
    },
    async close() {
      await engine.stop();
      await transport.close();
      if (!options.database) await database.close();
    },
  };
}
