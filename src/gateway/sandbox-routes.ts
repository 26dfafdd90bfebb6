import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionClient } from '../actors/session-client.ts';
import type { BotrelicConfig } from '../config/workspace-config.ts';
import type { InboxQueries } from '../persistence/inbox-queries.ts';
import { agentApiErrors } from './agent-api-errors.ts';
import { apiError, commandAccepted, sessionParams } from './agent-api-schemas.ts';
import { HttpError } from './http-errors.ts';
import { jsonSchema } from './json-schema.ts';
import { type SandboxView, sandboxView } from './sandbox-schemas.ts';

/** A workspace as the simulator offers it: its sandbox numbers only. */
export interface SandboxWorkspace {
  id: string;
  name: string;
  phoneNumbers: { phoneNumberId: string; displayPhoneNumber: string | null }[];
}

export interface SandboxRoutesOptions {
  /** `createAgentAuthenticator(db)`: the simulator is for a workspace's own agents. */
  authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  workspaces: readonly SandboxWorkspace[];
  queries: Pick<InboxQueries, 'findSession'>;
  sessions: Pick<SessionClient, 'command'>;
}

export function sandboxWorkspacesOf(config: BotrelicConfig): SandboxWorkspace[] {
  return config.workspaces.map((workspace) => ({
    id: workspace.id,
    name: workspace.name,
    phoneNumbers: workspace.phoneNumbers
      .filter((phoneNumber) => phoneNumber.mode === 'sandbox')
      .map((phoneNumber) => ({
        phoneNumberId: phoneNumber.phoneNumberId,
        displayPhoneNumber: phoneNumber.displayPhoneNumber ?? null,
      })),
  }));
}

const noPendingTimeout = () =>
  new HttpError('no_pending_timeout', 409, 'the session has no pending timeout to fire: nothing changed');

const security = [{ agentToken: [] }];

/**
 * What the sandbox simulator needs beyond the agent API: which sandbox numbers the caller's workspace has, and
 * "advance the clock" — a session's pending timeout fired now, so timeouts can be tried in seconds.
 */
export const sandboxRoutes: FastifyPluginAsync<SandboxRoutesOptions> = async (app, options) => {
  const { queries, sessions } = options;
  const workspaces = new Map(options.workspaces.map((workspace) => [workspace.id, workspace]));
  const sandboxNumbers = new Set(
    options.workspaces.flatMap((workspace) => workspace.phoneNumbers.map((number) => number.phoneNumberId)),
  );
  if (!app.hasRequestDecorator('agent')) app.decorateRequest('agent', null);
  app.addHook('onRequest', options.authenticate);

  app.get(
    '/api/sandbox',
    {
      schema: {
        summary: "The caller's workspace and its sandbox phone numbers, for the simulator",
        tags: ['sandbox'],
        security,
        response: { 200: jsonSchema(sandboxView), 401: jsonSchema(apiError) },
      },
    },
    async (request): Promise<SandboxView> => {
      const agent = request.agent!;
      const workspace = workspaces.get(agent.workspaceId);
      return {
        workspaceId: agent.workspaceId,
        workspaceName: workspace?.name ?? agent.workspaceId,
        agent: { agentId: agent.agentId, name: agent.name },
        phoneNumbers: workspace?.phoneNumbers ?? [],
      };
    },
  );

  app.post<{ Params: { sessionId: string } }>(
    '/api/sessions/:sessionId/advance',
    {
      schema: {
        summary: "Sandbox only: fire the session's pending timeout now, as if its deadline had come",
        description:
          'The session receives `session.timeout` stamped with its stored deadline (context.timer.at), so the ' +
          'machine takes the same transition it would take then. Sessions of production numbers are not found.',
        tags: ['sandbox'],
        security,
        params: jsonSchema(sessionParams, 'input'),
        response: {
          200: jsonSchema(commandAccepted),
          ...Object.fromEntries([401, 404, 409, 503].map((status) => [status, jsonSchema(apiError)])),
        },
      },
    },
    async (request) => {
      const { workspaceId } = request.agent!;
      const { sessionId } = request.params;
      const session = await queries.findSession(workspaceId, sessionId);
      // A production session is as unknown here as another workspace's: nobody fast-forwards real customers.
      if (!session || !sandboxNumbers.has(session.phoneNumberId)) throw agentApiErrors.sessionNotFound();
      if (session.closedAt !== null) throw agentApiErrors.sessionClosed();
      const address = { workspaceId, sessionKey: session.sessionKey, partition: session.partition };
      const result = await sessions.command(address, { type: 'session.advance', sessionId });
      if (result.ok) return { sessionId: result.sessionId, state: result.state, version: result.version };
      if (result.error === 'unavailable') throw agentApiErrors.sessionUnavailable();
      if (result.error === 'not_found') throw agentApiErrors.sessionClosed();
      throw noPendingTimeout();
    },
  );
};
