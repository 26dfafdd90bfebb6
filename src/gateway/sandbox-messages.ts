import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionClient } from '../actors/session-client.ts';
import type { Clock } from '../clock/clock.ts';
import { webhookOf } from '../whatsapp/simulated-message.ts';
import { parseWebhookPayload, WebhookPayloadError } from '../whatsapp/webhook-payload.ts';
import { InvalidPayloadError, InvalidPhoneNumberError, WorkspaceNotFoundError } from './http-errors.ts';
import type { InboundRecorder } from './inbound-recorder.ts';
import type { PhoneNumberDirectory } from './phone-number-directory.ts';

export interface SandboxMessagesOptions {
  /** Resolves the agent token (createAgentAuthenticator); answers 401 itself when there is none. */
  authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  directory: PhoneNumberDirectory;
  inbound: InboundRecorder;
  sessions: SessionClient;
  clock: Clock;
}

interface SandboxMessage {
  from: string;
  text?: string;
  message?: { type: string; id?: string; timestamp?: string; [key: string]: unknown };
  phoneNumberId?: string;
}

const DIGITS = '^[0-9]{1,32}$';

const params = {
  type: 'object',
  required: ['workspaceId'],
  properties: { workspaceId: { type: 'string' } },
} as const;

const body = {
  type: 'object',
  required: ['from'],
  additionalProperties: false,
  properties: {
    from: { type: 'string', pattern: DIGITS, description: "The simulated customer's wa_id." },
    text: { type: 'string', minLength: 1, maxLength: 4096, description: 'A text message.' },
    message: {
      type: 'object',
      description: "A Meta message object as in a webhook's messages[]; `from` is the body's.",
      required: ['type'],
      properties: {
        type: { type: 'string', minLength: 1 },
        id: { type: 'string', minLength: 1 },
        timestamp: { type: 'string', pattern: '^[0-9]{1,12}$' },
      },
    },
    phoneNumberId: {
      type: 'string',
      pattern: DIGITS,
      description: "A sandbox number of the workspace; the workspace's first one by default.",
    },
  },
  oneOf: [{ required: ['text'] }, { required: ['message'] }],
} as const;

const accepted = {
  type: 'object',
  properties: { wamid: { type: 'string' }, sessionKey: { type: 'string' } },
} as const;

/** Where the message sits in the webhook the simulator wraps it in; problems are reported from `message`. */
const MESSAGE_PATH = 'entry[0].changes[0].value.messages[0]';

/**
 * The sandbox customer: a workspace's agents play a customer writing to one of its sandbox numbers. The
 * message is wrapped in the webhook Meta would send and takes the webhook's own path from the parser on:
 * same recorder, same dedupe on wamid, same session.
 */
export const sandboxMessageRoutes: FastifyPluginAsync<SandboxMessagesOptions> = async (app, options) => {
  const { authenticate, directory, inbound, sessions, clock } = options;

  // onRequest, before the body is read: who may call comes first, then whether the call is well formed.
  async function requireOwnWorkspace(request: FastifyRequest): Promise<void> {
    const { workspaceId } = request.params as { workspaceId: string };
    // Another workspace's token learns nothing, not even that the workspace exists.
    if (request.agent?.workspaceId !== workspaceId) throw new WorkspaceNotFoundError();
  }

  app.post(
    '/api/workspaces/:workspaceId/sandbox/messages',
    {
      onRequest: [authenticate, requireOwnWorkspace],
      schema: { params, body, response: { 202: accepted } },
      // Ajv's own words, except for the oneOf, whose "must match exactly one schema" says nothing useful.
      schemaErrorFormatter: (errors, dataVar) =>
        new Error(
          errors.some((error) => error.keyword === 'oneOf')
            ? `${dataVar} must have either "text" or "message", not both`
            : errors
                .map((error) => `${dataVar}${error.instancePath.replaceAll('/', '.')} ${error.message}`)
                .join('; '),
        ),
    },
    async (request, reply) => {
      const { workspaceId } = request.params as { workspaceId: string };
      const input = request.body as SandboxMessage;
      const phoneNumberId = input.phoneNumberId ?? directory.sandboxNumbersOf(workspaceId)[0];
      if (phoneNumberId === undefined) {
        throw new InvalidPhoneNumberError(`workspace ${workspaceId} has no sandbox phone number`);
      }
      const route = directory.lookup(phoneNumberId);
      if (route?.workspaceId !== workspaceId || route.mode !== 'sandbox') {
        throw new InvalidPhoneNumberError(
          `phone number ${phoneNumberId} is not a sandbox number of workspace ${workspaceId}: ` +
            'simulated customers write to sandbox numbers only',
        );
      }
      const message = {
        id: `wamid.sandbox.${randomUUID()}`,
        timestamp: String(Math.floor(clock.now() / 1000)),
        ...(input.message ?? { type: 'text', text: { body: input.text } }),
        from: input.from,
      };
      const parsed = parseSimulated(phoneNumberId, message);
      await inbound.record([{ workspaceId, message: parsed }]);
      const { sessionKey } = sessions.addressOf(workspaceId, phoneNumberId, input.from);
      return reply.code(202).send({ wamid: parsed.wamid, sessionKey });
    },
  );
};

function parseSimulated(phoneNumberId: string, message: Record<string, unknown>) {
  const webhook = webhookOf(phoneNumberId, [message]);
  try {
    // Strict: whoever simulates a message of the wrong shape is better told so than have it stored raw.
    return parseWebhookPayload(webhook, { strictContent: true }).messages[0]!;
  } catch (error) {
    if (!(error instanceof WebhookPayloadError)) throw error;
    const problems = error.problems.map((problem) => problem.replace(MESSAGE_PATH, 'message'));
    throw new InvalidPayloadError(`not a WhatsApp message: ${problems.join('; ')}`);
  }
}
