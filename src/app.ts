import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { InspectionEvent } from 'xstate';
import { ActorHost } from './actors/actor-host.ts';
import { AutoAssigner } from './actors/auto-assigner.ts';
import { createHostMetrics } from './actors/host-metrics.ts';
import { SessionClient } from './actors/session-client.ts';
import { registerSessionGauges } from './actors/session-gauges.ts';
import { PARTITION_COUNT } from './actors/session-key.ts';
import { SessionRouter } from './actors/session-router.ts';
import { sessionSettingsFor } from './actors/session-settings.ts';
import { Sweeper } from './actors/sweeper.ts';
import { createAiMetrics } from './ai/ai-metrics.ts';
import { createReplyAgent } from './ai/create-reply-agent.ts';
import type { ReplyAgent } from './ai/reply-agent.ts';
import { type Clock, systemClock } from './clock/clock.ts';
import { requireAppSecretForProduction } from './config/app-secret-check.ts';
import type { Environment } from './config/environment.ts';
import type { BotrelicConfig } from './config/workspace-config.ts';
import { createAgentAuthenticator } from './gateway/agent-auth.ts';
import { closeGateway } from './gateway/close-gateway.ts';
import { createInboundMetrics } from './gateway/inbound-metrics.ts';
import { createInboundRecorder, type InboundRecorder } from './gateway/inbound-recorder.ts';
import { createLiveEventsBell } from './gateway/live-events.ts';
import { createPhoneNumberDirectory } from './gateway/phone-number-directory.ts';
import { sandboxWorkspacesOf } from './gateway/sandbox-routes.ts';
import { buildGateway } from './gateway/server.ts';
import { createStatusRecorder } from './gateway/status-recorder.ts';
import { INBOX_BUILD_DIR } from './inbox/build-inbox.ts';
import { type FolderWatcher, watchKnowledgeFolders } from './knowledge/folder-watcher.ts';
import { createKnowledgeBase, type KnowledgeBase } from './knowledge/knowledge-base.ts';
import { foldersOf, ingestConfiguredKnowledge } from './knowledge/knowledge-folders.ts';
import { withSearchCache } from './knowledge/search-cache.ts';
import { checkDatabase, createDatabase, type DatabaseHandle } from './persistence/database.ts';
import { createFailureNoticeStore } from './persistence/failure-notices.ts';
import { createInboxQueries } from './persistence/inbox-queries.ts';
import { createSessionStore } from './persistence/kysely-session-store.ts';
import { migrateToLatest } from './persistence/migrate.ts';
import { createOutboxStore } from './persistence/outbox-store.ts';
import { createSandboxOutboxQueries } from './persistence/sandbox-outbox-queries.ts';
import { countOpenSessions } from './persistence/session-counts.ts';
import { createTableMaintenance } from './persistence/table-maintenance.ts';
import { syncWorkspaces } from './persistence/workspace-sync.ts';
import { createInProcessTransport } from './transport/in-process-transport.ts';
import { createNatsTransport } from './transport/nats-transport.ts';
import type { Transport } from './transport/transport.ts';
import { createDeliveryPacing } from './whatsapp/delivery-pacing.ts';
import { FailureNotifier } from './whatsapp/failure-notifier.ts';
import { createGraphApiClient } from './whatsapp/graph-api-client.ts';
import { createOutboxMetrics } from './whatsapp/outbox-metrics.ts';
import { OutboxSender } from './whatsapp/outbox-sender.ts';
import { PAIR_RATE } from './whatsapp/rate-limiter.ts';
import { createSandboxReceipts } from './whatsapp/sandbox-receipts.ts';
import { createSendingNumbers } from './whatsapp/sending-numbers.ts';
import { createTypingIndicator } from './whatsapp/typing-indicator.ts';

export interface EngineOptions {
  config: BotrelicConfig;
  env: Environment;
  logger: Logger;
  clock?: Clock;
  /** The AI agent; without one the engine builds the real one (`createReplyAgent`) on its knowledge base. */
  replyAgent?: ReplyAgent;
  /** Attaches an inspector (e.g. @statelyai/inspect) to every session actor. */
  inspect?: (event: InspectionEvent) => void;
  actors?: {
    idleMs?: number;
    maxLiveActors?: number;
    sweepIntervalMs?: number;
    stalledInboundMs?: number;
    replyWindowMs?: number;
  };
  /** An open database or transport to use instead of the environment's; the engine leaves closing it to the caller. */
  database?: DatabaseHandle;
  transport?: Transport;
}

export interface Engine {
  app: FastifyInstance;
  knowledge: KnowledgeBase;
  host: ActorHost;
  sessions: SessionClient;
  /** The one path inbound messages take into the store (webhook, sandbox API, scenario runs). */
  inbound: InboundRecorder;
  sweeper: Sweeper;
  /** Delivers the outbox: Graph API for production numbers, the sandbox outbox for sandbox numbers. */
  outbox: OutboxSender;
  /** Tells sessions of their failed messages, from the notices the failures left. */
  failures: FailureNotifier;
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
  const role = env.BOTRELIC_ROLE;
  // Sessions run where the actor host does; the gateway only records what arrives and talks to them over NATS.
  const runsSessions = role !== 'gateway';
  requireAppSecretForProduction(config, env);
  const clock = options.clock ?? systemClock;
  const database = options.database ?? (await openDatabase(env));
  await migrateToLatest(database.db);
  await syncWorkspaces(database.db, config);
  const maintenance = await createTableMaintenance({
    database,
    logger,
    intervalMs: TABLE_MAINTENANCE_INTERVAL_MS,
  });
  const knowledge = withSearchCache(createKnowledgeBase(database.db), { now: () => clock.now() });
  if (runsSessions) await ingestConfiguredKnowledge(knowledge, config, logger);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'botrelic_' });
  const replyAgent =
    options.replyAgent ??
    createReplyAgent(env, { knowledge, config, metrics: createAiMetrics(registry) }).agent;
  const transport = options.transport ?? (await openTransport(env, logger));
  const store = createSessionStore(database.db);
  const workspaces = new Map(
    config.workspaces.map((workspace) => [workspace.id, sessionSettingsFor(workspace)]),
  );
  const handoffRules = new Map(config.workspaces.map((workspace) => [workspace.id, workspace.handoff.rules]));
  const numbers = createSendingNumbers(config);
  const graph = createGraphApiClient({ baseUrl: env.WHATSAPP_GRAPH_URL });
  const outboxMetrics = createOutboxMetrics(registry);

  const host = new ActorHost({
    store,
    transport,
    clock,
    replyAgent,
    logger,
    metrics: createHostMetrics(registry),
    settingsFor: (workspaceId) => workspaces.get(workspaceId),
    handoffRulesFor: (workspaceId) => handoffRules.get(workspaceId),
    staleMessageAgeMs: env.BOTRELIC_STALE_MESSAGE_AGE,
    idleMs: options.actors?.idleMs ?? env.BOTRELIC_ACTOR_IDLE_TIMEOUT,
    maxLiveActors: options.actors?.maxLiveActors ?? env.BOTRELIC_MAX_LIVE_ACTORS,
    replyWindowMs: options.actors?.replyWindowMs,
    inspect: options.inspect,
    onOutbound: () => outbox.wake(),
    typing: createTypingIndicator({ graph, numbers, logger, metrics: outboxMetrics }),
  });
  // One process owns every partition until partition leases arrive; nothing below assumes it.
  const partitions = Array.from({ length: PARTITION_COUNT }, (_, partition) => partition);
  registerSessionGauges(registry, {
    countOpenSessions: () => countOpenSessions(database.db, partitions),
    liveActors: () => host.liveActors,
  });
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
  // The webhook's commits (what every 200 waits on) get connections of their own: a backlog of session writes,
  // knowledge searches or outbox marks must not hold up acknowledging Meta.
  const gatewayDatabase =
    !options.database && env.DATABASE_URL
      ? await createDatabase({
          url: env.DATABASE_URL,
          poolSize: GATEWAY_POOL_SIZE,
          timeoutMs: env.BOTRELIC_DB_TIMEOUT,
        })
      : database;
  const sessions = new SessionClient(
    transport,
    gatewayDatabase === database ? store : createSessionStore(gatewayDatabase.db),
  );
  const failures = new FailureNotifier({
    store: createFailureNoticeStore(database.db),
    sessions,
    clock,
    logger: logger.child({ component: 'failure-notices' }),
    pollIntervalMs: env.BOTRELIC_OUTBOX_POLL_INTERVAL,
  });
  // Delivery statuses are session events of their own: live inboxes hear of them from this bell.
  const statusEvents = createLiveEventsBell(transport, (error) =>
    logger.warn({ err: error }, 'could not announce delivery statuses to live inboxes'),
  );
  const outbox = new OutboxSender({
    store: createOutboxStore(database.db, {
      onFailureNotices: () => failures.wake(),
      onStatusEvents: statusEvents,
      logger: logger.child({ component: 'outbox' }),
    }),
    graph,
    numbers,
    pacing: createDeliveryPacing({
      clock,
      // Strict (no burst): no second ever carries more than the rate, plus one.
      phoneNumber: { ratePerSecond: env.BOTRELIC_PHONE_NUMBER_RATE, burst: 1 },
      recipient: PAIR_RATE,
      forgetAfterMs: 60_000,
    }),
    clock,
    logger: logger.child({ component: 'outbox' }),
    metrics: outboxMetrics,
    receipts:
      env.BOTRELIC_SANDBOX_RECEIPT_DELAY > 0
        ? createSandboxReceipts({
            db: database.db,
            clock,
            logger,
            delayMs: env.BOTRELIC_SANDBOX_RECEIPT_DELAY,
            onStatusEvents: statusEvents,
          })
        : undefined,
    pollIntervalMs: env.BOTRELIC_OUTBOX_POLL_INTERVAL,
    // At a 1,000/s tier a number's sends are a millisecond apart: such waits are not worth a trip to the table.
    holdInMemoryMs: 50,
    maxAttempts: env.BOTRELIC_OUTBOX_MAX_ATTEMPTS,
  });
  const directory = createPhoneNumberDirectory(config);
  const inboundMetrics = createInboundMetrics(registry);
  const inbound = createInboundRecorder({
    sessions,
    clock,
    metrics: inboundMetrics,
    deadlineMs: env.BOTRELIC_DB_TIMEOUT,
  });
  const inboxQueries = createInboxQueries(database.db);
  const assigner = new AutoAssigner({
    transport,
    queries: inboxQueries,
    sessions,
    logger,
    workspaces: new Map(
      config.workspaces
        .filter((workspace) => workspace.handoff.autoAssign)
        .map((workspace) => [workspace.id, { capacity: workspace.handoff.capacity }]),
    ),
  });
  const app = await buildGateway({
    // The sessions side answers health probes and metric scrapes; what customers and agents call is the gateway's.
    routes: role === 'sessions' ? 'health' : 'all',
    logger,
    registry,
    readiness: {
      database: () => checkDatabase(database.db).then(() => true),
      transport: async () => transport.isConnected(),
    },
    webhook: {
      appSecret: env.WHATSAPP_APP_SECRET,
      verifyToken: env.WHATSAPP_VERIFY_TOKEN,
      directory,
      inbound,
      statuses: createStatusRecorder({
        db: gatewayDatabase.db,
        clock,
        metrics: inboundMetrics,
        onFailureNotices: () => failures.wake(),
        onStatusEvents: statusEvents,
        deadlineMs: env.BOTRELIC_DB_TIMEOUT,
      }),
      metrics: inboundMetrics,
    },
    sandboxMessages: {
      authenticate: createAgentAuthenticator(database.db),
      directory,
      inbound,
      sessions,
      clock,
    },
    sandboxOutbox: {
      authenticate: createAgentAuthenticator(database.db),
      directory,
      queries: createSandboxOutboxQueries(database.db),
    },
    sandbox: {
      authenticate: createAgentAuthenticator(database.db),
      workspaces: sandboxWorkspacesOf(config),
      queries: inboxQueries,
      sessions,
    },
    agentApi: {
      authenticate: createAgentAuthenticator(database.db),
      queries: inboxQueries,
      sessions,
      transport,
      clock,
      onAvailabilityChange: (workspaceId) => void assigner.assign(workspaceId),
    },
    inboxPage: { directory: INBOX_BUILD_DIR },
    knowledgeApi: {
      knowledge,
      languages: new Map(config.workspaces.map((workspace) => [workspace.id, workspace.agent.language])),
      adminToken: env.BOTRELIC_ADMIN_TOKEN,
    },
  });

  let knowledgeWatcher: FolderWatcher | undefined;
  return {
    app,
    knowledge,
    host,
    sessions,
    inbound,
    sweeper,
    outbox,
    failures,
    database,
    transport,
    registry,
    async start() {
      // The gateway answers availability changes itself (the assigner's commands go over the transport).
      if (!runsSessions) return;
      router.own(partitions);
      await transport.flush();
      await sweeper.start();
      outbox.start();
      failures.start();
      assigner.start();
      maintenance.start();
      // Folder documents edited while the engine runs are re-indexed; the start above indexed them all.
      knowledgeWatcher = watchKnowledgeFolders({ knowledge, workspaces: foldersOf(config), logger });
    },
    async stop() {
      await knowledgeWatcher?.close();
      await closeGateway(app);
      // The last requests' doorbells may still be on their way: they reach the router before it unsubscribes.
      await transport.flush().catch(() => undefined);
      await assigner.stop();
      // Before the router goes: a session being told now still answers.
      await failures.stop();
      router.close();
      await sweeper.stop();
      await host.stop();
      // After the host, whose last jobs may still wake it: sends in flight finish and record their outcome.
      await outbox.stop();
      await maintenance.stop();
      // Close only what the engine opened itself.
      if (!options.transport) await transport.close();
      if (gatewayDatabase !== database) await gatewayDatabase.close();
      if (!options.database) await database.close();
    },
  };
}

/**
 * How often the engine looks after its tables where no autovacuum does (table-maintenance.ts): Postgres' change
 * counters are a cheap read; a PGlite pass analyzes and vacuums every table, so it comes less often.
 */
const TABLE_MAINTENANCE_INTERVAL_MS = { postgres: 10_000, pglite: 60_000 };

/** Connections for the webhook's inbound and status commits: each kind runs one batched commit at a time. */
const GATEWAY_POOL_SIZE = 4;

function openDatabase(env: Environment): Promise<DatabaseHandle> {
  return env.DATABASE_URL
    ? createDatabase({ url: env.DATABASE_URL, timeoutMs: env.BOTRELIC_DB_TIMEOUT })
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
