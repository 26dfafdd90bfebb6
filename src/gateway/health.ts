import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthOptions {
  /** Named checks of what the engine needs to serve: database, transport. */
  readiness: Record<string, () => Promise<boolean>>;
  registry: Registry;
}

/** Liveness, readiness and Prometheus metrics: what an operator's probes and scrapers call. */
export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { readiness, registry }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(readiness).map(async ([name, check]) => {
        const ok = await check().catch(() => false);
        return [name, ok ? 'ok' : 'unavailable'] as const;
      }),
    );
    const checks = Object.fromEntries(results);
    const ready = results.every(([, status]) => status === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};
