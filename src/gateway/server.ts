import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type AgentApiOptions, agentApi } from './agent-api.ts';
import { healthRoutes } from './health.ts';
import { sendHttpError } from './http-errors.ts';
import { type InboxPageOptions, inboxPage } from './inbox-page.ts';
import { type KnowledgeApiOptions, knowledgeApi } from './knowledge-api.ts';
import { registerOpenApi } from './openapi.ts';
import { type SandboxMessagesOptions, sandboxMessageRoutes } from './sandbox-messages.ts';
import { type SandboxOutboxOptions, sandboxOutboxRoutes } from './sandbox-outbox.ts';
import { type SandboxRoutesOptions, sandboxRoutes } from './sandbox-routes.ts';
import { type WebhookOptions, webhookRoutes } from './webhook.ts';

export interface GatewayOptions {
  /** `health`: only probes and metrics, for a process that runs the sessions side alone (BOTRELIC_ROLE). */
  routes: 'all' | 'health';
  logger: Logger;
  registry: Registry;
  readiness: Record<string, () => Promise<boolean>>;
  webhook: WebhookOptions;
  sandboxMessages: SandboxMessagesOptions;
  sandboxOutbox: SandboxOutboxOptions;
  sandbox: SandboxRoutesOptions;
  agentApi: AgentApiOptions;
  inboxPage: InboxPageOptions;
  knowledgeApi: KnowledgeApiOptions;
}

/** The HTTP face of the engine: each feature is a plugin that gets what it needs through its options. */
export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request would dominate the logs at webhook rates; routes log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    // Meta's webhook payloads are at most 3 MB.
    bodyLimit: 3 * 1024 * 1024,
  });
  // Set before any plugin registers: every scope inherits the one error handler.
  app.setErrorHandler(sendHttpError);
  await registerOpenApi(app);
  await app.register(healthRoutes, { readiness: options.readiness, registry: options.registry });
  if (options.routes === 'health') return app;
  await app.register(webhookRoutes, options.webhook);
  await app.register(sandboxMessageRoutes, options.sandboxMessages);
  await app.register(sandboxOutboxRoutes, options.sandboxOutbox);
  await app.register(sandboxRoutes, options.sandbox);
  await app.register(agentApi, options.agentApi);
  await app.register(inboxPage, options.inboxPage);
  await app.register(knowledgeApi, options.knowledgeApi);
  return app;
}
