import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SandboxOutboxQueries } from '../persistence/sandbox-outbox-queries.ts';
import { apiError } from './agent-api-schemas.ts';
import { WorkspaceNotFoundError } from './http-errors.ts';
import { jsonSchema } from './json-schema.ts';
import type { PhoneNumberDirectory } from './phone-number-directory.ts';

export interface SandboxOutboxOptions {
  /** Resolves the agent token (createAgentAuthenticator); answers 401 itself when there is none. */
  authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  directory: Pick<PhoneNumberDirectory, 'sandboxNumbersOf'>;
  queries: SandboxOutboxQueries;
}

const ms = z.number().describe('ms since epoch');
const digits = z.string().regex(/^[0-9]{1,32}$/);

const params = z.strictObject({ workspaceId: z.string().min(1).max(100) });

const query = z.object({
  to: digits.optional().describe("only messages to this customer's wa_id"),
  after: digits.optional().describe('only messages after this id, oldest first (poll with the last id seen)'),
  limit: z.number().int().min(1).max(500).default(100),
});

const outboxMessage = z.object({
  id: z.string(),
  sessionId: z.string().nullable(),
  phoneNumberId: z.string(),
  to: z.string().describe("the customer's wa_id"),
  author: z.enum(['ai', 'agent', 'system']),
  type: z.string().describe('text or template'),
  text: z.string().nullable(),
  template: z
    .object({
      name: z.string(),
      language: z.string(),
      components: z.array(z.record(z.string(), z.unknown())).optional(),
    })
    .nullable(),
  status: z.enum(['received', 'pending', 'sent', 'delivered', 'read', 'failed']),
  wamid: z.string().nullable().describe('wamid.sandbox.… once the sandbox took it'),
  error: z.object({ code: z.number().nullable(), title: z.string().nullable() }).nullable(),
  createdAt: ms.describe('when the session wrote it'),
  sentAt: ms.nullable(),
});

const outboxPage = z.object({ messages: z.array(outboxMessage).describe('newest last') });

/**
 * The sandbox outbox: what the engine sent to the simulated customers of a workspace's sandbox numbers (which
 * never reach Meta), for the sandbox page and for scenario tests. Behind the workspace's agent tokens.
 */
export const sandboxOutboxRoutes: FastifyPluginAsync<SandboxOutboxOptions> = async (app, options) => {
  const { authenticate, directory, queries } = options;
  if (!app.hasRequestDecorator('agent')) app.decorateRequest('agent', null);

  async function requireOwnWorkspace(request: FastifyRequest): Promise<void> {
    const { workspaceId } = request.params as { workspaceId: string };
    // Another workspace's token learns nothing, not even that the workspace exists.
    if (request.agent?.workspaceId !== workspaceId) throw new WorkspaceNotFoundError();
  }

  app.get<{ Params: z.output<typeof params>; Querystring: z.output<typeof query> }>(
    '/api/workspaces/:workspaceId/sandbox/outbox',
    {
      onRequest: [authenticate, requireOwnWorkspace],
      schema: {
        summary: "Messages sent to the simulated customers of the workspace's sandbox numbers",
        tags: ['sandbox'],
        security: [{ agentToken: [] }],
        params: jsonSchema(params, 'input'),
        querystring: jsonSchema(query, 'input'),
        response: {
          200: jsonSchema(outboxPage),
          ...Object.fromEntries([400, 401, 404].map((status) => [status, jsonSchema(apiError)])),
        },
      },
    },
    async (request) => {
      const { workspaceId } = request.params;
      const { to, after, limit } = request.query;
      const messages = await queries.list(workspaceId, directory.sandboxNumbersOf(workspaceId), {
        to,
        after,
        limit,
      });
      return { messages };
    },
  );
};
