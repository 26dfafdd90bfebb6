import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { healthRoutes } from './health.ts';

export interface GatewayOptions {
  logger: Logger;
  registry: Registry;
  readiness: Record<string, () => Promise<boolean>>;
}

/** The HTTP face of the engine: each feature is a plugin that gets what it needs through its options. */
export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    disableRequestLogging: true,
    // Meta's webhook payloads are at most 3 MB.
    bodyLimit: 3 * 1024 * 1024,
  });
  await app.register(healthRoutes, { readiness: options.readiness, registry: options.registry });
  return app;
}
