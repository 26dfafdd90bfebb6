import type { FastifyPluginAsync } from 'fastify';
import type { InboxQueries } from '../persistence/inbox-queries.ts';
import { apiError, availability, availabilityChanged } from './agent-api-schemas.ts';
import { jsonSchema } from './json-schema.ts';

export interface AvailabilityRouteOptions {
  queries: Pick<InboxQueries, 'setAvailable'>;
  /** An agent became available or not: auto-assignment may have sessions for them now. */
  onChange(workspaceId: string): void;
}

/** `POST /api/agents/me/availability`: whether the calling agent takes auto-assigned sessions. */
export const availabilityRoute: FastifyPluginAsync<AvailabilityRouteOptions> = async (app, options) => {
  app.post<{ Body: { available: boolean } }>(
    '/api/agents/me/availability',
    {
      schema: {
        summary: 'Mark yourself available (or not) for auto-assigned sessions',
        tags: ['agents'],
        security: [{ agentToken: [] }],
        body: jsonSchema(availability, 'input'),
        response: {
          200: jsonSchema(availabilityChanged),
          400: jsonSchema(apiError),
          401: jsonSchema(apiError),
        },
      },
    },
    async (request) => {
      const { workspaceId, agentId } = request.agent!;
      await options.queries.setAvailable(workspaceId, agentId, request.body.available);
      options.onChange(workspaceId);
      return { agentId, available: request.body.available };
    },
  );
};
