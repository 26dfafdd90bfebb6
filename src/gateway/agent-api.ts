import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionClient } from '../actors/session-client.ts';
import type { Clock } from '../clock/clock.ts';
import type { InboxQueries } from '../persistence/inbox-queries.ts';
import type { Transport } from '../transport/transport.ts';
import { availabilityRoute } from './availability-route.ts';
import { eventStreamRoute } from './event-stream-route.ts';
import { inboxRoutes } from './inbox-routes.ts';
import { sessionCommandRoutes } from './session-command-routes.ts';

export interface AgentApiOptions {
  /** `createAgentAuthenticator(db)`: every route here is for an agent of one workspace. */
  authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  queries: InboxQueries;
  sessions: Pick<SessionClient, 'command'>;
  transport: Transport;
  clock: Clock;
  /** An agent's availability changed (auto-assignment runs again for the workspace). */
  onAvailabilityChange(workspaceId: string): void;
  heartbeatMs?: number;
  replayLimit?: number;
}

/** The API behind the inbox: what human agents read, the commands they give, and the live event stream. */
export const agentApi: FastifyPluginAsync<AgentApiOptions> = async (app, options) => {
  const { queries, clock } = options;
  if (!app.hasRequestDecorator('agent')) app.decorateRequest('agent', null);
  // Before the body is even parsed: a caller without a valid token learns nothing, not even validation errors.
  app.addHook('onRequest', options.authenticate);
  await app.register(inboxRoutes, { queries, clock });
  await app.register(sessionCommandRoutes, { queries, sessions: options.sessions, clock });
  await app.register(availabilityRoute, { queries, onChange: options.onAvailabilityChange });
  await app.register(eventStreamRoute, {
    transport: options.transport,
    queries,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    replayLimit: options.replayLimit ?? 1_000,
  });
};
