import type { FastifyPluginAsync } from 'fastify';
import type { SessionCommand } from '../actors/actor-host.ts';
import type { SessionClient } from '../actors/session-client.ts';
import type { Clock } from '../clock/clock.ts';
import type { InboxQueries, InboxSession } from '../persistence/inbox-queries.ts';
import { agentApiErrors } from './agent-api-errors.ts';
import {
  apiError,
  type CommandAccepted,
  commandAccepted,
  replyBody,
  sessionParams,
  templateBody,
} from './agent-api-schemas.ts';
import type { AuthenticatedAgent } from './agent-auth.ts';
import type { HttpError } from './http-errors.ts';
import { serviceWindowEnd } from './inbox-view.ts';
import { jsonSchema } from './json-schema.ts';

export interface SessionCommandRoutesOptions {
  queries: Pick<InboxQueries, 'findSession'>;
  sessions: Pick<SessionClient, 'command'>;
  clock: Clock;
}

type AgentCommand = Extract<SessionCommand, { agentId: string }>;

/**
 * Why the session refused a command, read from the state it is in now. The machine's guards decide; this only
 * puts their decision into words for the agent.
 */
function explainRefusal(
  type: AgentCommand['type'],
  session: InboxSession,
  agent: AuthenticatedAgent,
  now: number,
): HttpError {
  const owner = session.context.handoff?.agentId ?? null;
  if (session.closedAt !== null) return agentApiErrors.sessionClosed();
  if (type === 'agent.takeover') return agentApiErrors.alreadyTaken(session.state === 'human' ? owner : null);
  if (session.state !== 'human') return agentApiErrors.notTakenOver();
  if (owner !== agent.agentId) return agentApiErrors.notYourSession(owner);
  const endsAt = serviceWindowEnd(session.context);
  if (type === 'agent.message' && (endsAt === null || now >= endsAt)) {
    return agentApiErrors.outsideServiceWindow(session.id, endsAt);
  }
  // The state moved on between the refusal and this read; the agent's view is stale either way.
  return agentApiErrors.alreadyTaken(owner);
}

const security = [{ agentToken: [] }];

function routeSchema(summary: string, extra: Record<string, unknown> = {}) {
  return {
    summary,
    tags: ['sessions'],
    security,
    params: jsonSchema(sessionParams, 'input'),
    response: {
      200: jsonSchema(commandAccepted),
      ...Object.fromEntries([401, 404, 409, 503].map((status) => [status, jsonSchema(apiError)])),
    },
    ...extra,
  };
}

/**
 * An agent's commands go to the session over the transport, to whichever node hosts it; the session applies
 * them in order with everything else that happens to it, so two agents racing for one session cannot both win.
 */
export const sessionCommandRoutes: FastifyPluginAsync<SessionCommandRoutesOptions> = async (app, options) => {
  const { queries, sessions, clock } = options;

  async function run(
    agent: AuthenticatedAgent,
    sessionId: string,
    command: AgentCommand,
  ): Promise<CommandAccepted> {
    const session = await queries.findSession(agent.workspaceId, sessionId);
    if (!session) throw agentApiErrors.sessionNotFound();
    if (session.closedAt !== null) throw agentApiErrors.sessionClosed();
    const address = {
      workspaceId: agent.workspaceId,
      sessionKey: session.sessionKey,
      partition: session.partition,
    };
    const result = await sessions.command(address, { ...command, sessionId });
    if (result.ok) return { sessionId: result.sessionId, state: result.state, version: result.version };
    if (result.error === 'unavailable') throw agentApiErrors.sessionUnavailable();
    const current = await queries.findSession(agent.workspaceId, sessionId);
    throw explainRefusal(command.type, current ?? session, agent, clock.now());
  }

  type Params = { Params: { sessionId: string } };

  app.post<Params>(
    '/api/sessions/:sessionId/takeover',
    {
      schema: routeSchema('Take the session over: the AI goes silent; exactly one of two racing agents wins'),
    },
    async (request) =>
      run(request.agent!, request.params.sessionId, {
        type: 'agent.takeover',
        agentId: request.agent!.agentId,
      }),
  );

  app.post<Params & { Body: { text: string } }>(
    '/api/sessions/:sessionId/messages',
    {
      schema: routeSchema('Reply to the customer in the same WhatsApp thread (inside the 24-hour window)', {
        body: jsonSchema(replyBody, 'input'),
        response: {
          202: jsonSchema(commandAccepted),
          ...Object.fromEntries(
            [400, 401, 404, 409, 422, 503].map((status) => [status, jsonSchema(apiError)]),
          ),
        },
      }),
    },
    async (request, reply) => {
      const agent = request.agent!;
      const accepted = await run(agent, request.params.sessionId, {
        type: 'agent.message',
        agentId: agent.agentId,
        text: request.body.text,
      });
      // Accepted: the reply is in the outbox, committed with the session; the sender delivers it.
      return reply.code(202).send(accepted);
    },
  );

  app.post<Params & { Body: { name: string; language: string; components?: Record<string, unknown>[] } }>(
    '/api/sessions/:sessionId/templates',
    {
      schema: routeSchema(
        'Send an approved template message: the way to reach a customer after the 24-hour window',
        {
          body: jsonSchema(templateBody, 'input'),
          response: {
            202: jsonSchema(commandAccepted),
            ...Object.fromEntries([400, 401, 404, 409, 503].map((status) => [status, jsonSchema(apiError)])),
          },
        },
      ),
    },
    async (request, reply) => {
      const agent = request.agent!;
      const { name, language, components } = request.body;
      const accepted = await run(agent, request.params.sessionId, {
        type: 'agent.template',
        agentId: agent.agentId,
        template: { name, language, ...(components ? { components } : {}) },
      });
      return reply.code(202).send(accepted);
    },
  );

  app.post<Params>(
    '/api/sessions/:sessionId/release',
    { schema: routeSchema('Hand the session back to the AI, with a handback marker in its history') },
    async (request) =>
      run(request.agent!, request.params.sessionId, {
        type: 'agent.release',
        agentId: request.agent!.agentId,
      }),
  );

  app.post<Params>(
    '/api/sessions/:sessionId/close',
    { schema: routeSchema('Close the session; the customer’s next message starts a new one') },
    async (request) =>
      run(request.agent!, request.params.sessionId, { type: 'agent.close', agentId: request.agent!.agentId }),
  );
};
