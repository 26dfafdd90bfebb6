import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { InspectionEvent } from 'xstate';
import { ActorHost } from './actors/actor-host.ts';
import { createHostMetrics } from './actors/host-metrics.ts';
import { SessionClient } from './actors/session-client.ts';
import { PARTITION_COUNT } from './actors/session-key.ts';
import { SessionRouter } from './actors/session-router.ts';
import { sessionSettingsFor } from './actors/session-settings.ts';
import { Sweeper } from './actors/sweeper.ts';
import type { ReplyAgent } from './ai/reply-agent.ts';
import { type Clock, systemClock } from './clock/clock.ts';
import type { Environment } from './config/environment.ts';
import type { BotrelicConfig } from './config/workspace-config.ts';
import { buildGateway } from './gateway/server.ts';
import { checkDatabase, createDatabase, type DatabaseHandle } from './persistence/database.ts';
import { createSessionStore } from './persistence/kysely-session-store.ts';
import { migrateToLatest } from './persistence/migrate.ts';
import { syncWorkspaces } from './persistence/workspace-sync.ts';
import { createInProcessTransport } from './transport/in-process-transport.ts';
import { createNatsTransport } from './transport/nats-transport.ts';
import type { Transport } from './transport/transport.ts';

export interface EngineOptions {
  config: BotrelicConfig;
  env: Environment;
  logger: Logger;
  clock?: Clock;
  /** The AI agent; the composition of the real ones lives in `createReplyAgent`. */
  replyAgent: ReplyAgent;
  /** Attaches an inspector (e.g. @statelyai/inspect) to every session actor. */
  inspect?: (event: InspectionEvent) => void;
  actors?: { idleMs?: number; maxLiveActors?: number; sweepIntervalMs?: number; stalledInboundMs?: number };
  /** An open database or transport to use instead of the environment's; the engine leaves closing it to the caller. */
  database?: DatabaseHandle;
  transport?: Transport;
}

export interface Engine {
  app: FastifyInstance;
  host: ActorHost;
  sessions: SessionClient;
  sweeper: Sweeper;
  database: DatabaseHandle;
  transport: Transport;
  registry: Registry;
  /** Subscribes to the owned partitions and starts sweeping. */
  start(): Promise<void>;
  /** Graceful: stops taking requests, drains every mailbox (each job persists before it ends), closes. */
  stop(): Promise<void>;
}

/** The composition root: builds every adapter from configuration and wires them. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const { config, env, logger } = options;
  const clock = options.clock ?? systemClock;
  const database = options.database ?? (await openDatabase(env));
  await migrateToLatest(database.db);
  await syncWorkspaces(database.db, config);
  const transport = options.transport ?? (await openTransport(env, logger));
  const store = createSessionStore(database.db);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'botrelic_' });
  const workspaces = new Map(
    config.workspaces.map((workspace) => [workspace.id, sessionSettingsFor(workspace)]),
  );
  const handoffRules = new Map(config.workspaces.map((workspace) => [workspace.id, workspace.handoff.rules]));

  const host = new ActorHost({
    store,
    transport,
    clock,
    replyAgent: options.replyAgent,
    logger,
    metrics: createHostMetrics(registry),
    settingsFor: (workspaceId) => workspaces.get(workspaceId),
    handoffRulesFor: (workspaceId) => handoffRules.get(workspaceId),
    idleMs: options.actors?.idleMs ?? 10 * 60_000,
    maxLiveActors: options.actors?.maxLiveActors ?? 100_000,
    inspect: options.inspect,
  });
  // One process owns every partition until partition leases arrive; nothing below assumes it.
  const partitions = Array.from({ length: PARTITION_COUNT }, (_, partition) => partition);
  const router = new SessionRouter(transport, host, logger);
  const sweeper = new Sweeper({
    host,
    store,
    clock,
    logger,
    partitions: () => partitions,
    intervalMs: options.actors?.sweepIntervalMs ?? 1_000,
    stalledInboundMs: options.actors?.stalledInboundMs ?? 5_000,
  });
  const sessions = new SessionClient(transport, store);
  const app = await buildGateway({
    logger,
    registry,
    readiness: {
      database: () => checkDatabase(database.db).then(() => true),
      transport: async () => transport.isConnected(),
    },
  });

  return {
    app,
    host,
    sessions,
    sweeper,
    database,
    transport,
    registry,
    async start() {
      router.own(partitions);
      await transport.flush();
      await sweeper.start();
    },
    async stop() {
      await app.close();
      router.close();
      await sweeper.stop();
      await host.stop();
      // Close only what the engine opened itself.
      if (!options.transport) await transport.close();
      if (!options.database) await database.close();
    },
  };
}

function openDatabase(env: Environment): Promise<DatabaseHandle> {
  return env.DATABASE_URL
    ? createDatabase({ url: env.DATABASE_URL })
    : createDatabase({ dataDir: env.BOTRELIC_DATA_DIR });
}

function openTransport(env: Environment, logger: Logger): Promise<Transport> | Transport {
  if (!env.NATS_URL) return createInProcessTransport();
  return createNatsTransport({
    url: env.NATS_URL,
    name: env.BOTRELIC_NODE_NAME ?? 'botrelic',
    onError: (error, subject) => logger.error({ err: error, subject }, 'transport handler failed'),
  });
}
