import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI document, generated from the route schemas that also validate and serialise: registered before
 * any route so that every later route is in it, and served at `/api/openapi.json`.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Botrelic',
        version: '0.1.0',
        description:
          'WhatsApp customer-service engine: the agent API behind the inbox, webhooks and operations.',
      },
      components: {
        securitySchemes: {
          agentToken: {
            type: 'http',
            scheme: 'bearer',
            description: "a human agent's token from botrelic.yaml",
          },
        },
      },
    },
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
