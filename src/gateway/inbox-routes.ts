import type { FastifyPluginAsync } from 'fastify';
import type { Clock } from '../clock/clock.ts';
import type { InboxQueries } from '../persistence/inbox-queries.ts';
import { agentApiErrors } from './agent-api-errors.ts';
import { apiError, inboxView, sessionParams, sessionView } from './agent-api-schemas.ts';
import { buildInbox, buildSessionView } from './inbox-view.ts';
import { jsonSchema } from './json-schema.ts';

export interface InboxRoutesOptions {
  queries: InboxQueries;
  clock: Clock;
}

const security = [{ agentToken: [] }];

/** What an agent reads: the inbox's three lists, and one session in full. */
export const inboxRoutes: FastifyPluginAsync<InboxRoutesOptions> = async (app, { queries, clock }) => {
  app.get(
    '/api/inbox',
    {
      schema: {
        summary: "The agent's inbox: sessions waiting for a person, assigned to me, assigned to others",
        tags: ['inbox'],
        security,
        response: { 200: jsonSchema(inboxView), 401: jsonSchema(apiError) },
      },
    },
    async (request) => {
      const agent = request.agent!;
      // The cursor is read first: an event committed while the lists are read is replayed, never missed.
      const lastEventId = await queries.latestEventId(agent.workspaceId);
      const [sessions, available] = await Promise.all([
        queries.listHandoffSessions(agent.workspaceId),
        queries.isAvailable(agent.workspaceId, agent.agentId),
      ]);
      return buildInbox(sessions, { ...agent, available }, clock.now(), lastEventId);
    },
  );

  app.get<{ Params: { sessionId: string } }>(
    '/api/sessions/:sessionId',
    {
      schema: {
        summary:
          "One session: state, customer, transcript with delivery statuses, the AI's decisions, handoffs",
        tags: ['inbox'],
        security,
        params: jsonSchema(sessionParams, 'input'),
        response: { 200: jsonSchema(sessionView), 401: jsonSchema(apiError), 404: jsonSchema(apiError) },
      },
    },
    async (request) => {
      const { workspaceId } = request.agent!;
      const { sessionId } = request.params;
      const session = await queries.findSession(workspaceId, sessionId);
      if (!session) throw agentApiErrors.sessionNotFound();
      const [transcript, events] = await Promise.all([
        queries.listTranscript(workspaceId, sessionId),
        queries.listSessionEvents(workspaceId, sessionId),
      ]);
      return buildSessionView(session, transcript, events, clock.now());
    },
  );
};
