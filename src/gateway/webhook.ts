import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import { type ParsedWebhook, parseWebhookPayload, WebhookPayloadError } from '../whatsapp/webhook-payload.ts';
import { verifyWebhookSignature } from '../whatsapp/webhook-signature.ts';
import {
  InvalidPayloadError,
  InvalidSignatureError,
  MalformedJsonError,
  VerificationRefusedError,
} from './http-errors.ts';
import type { InboundMetrics } from './inbound-metrics.ts';
import type { InboundRecorder, RoutedMessage } from './inbound-recorder.ts';
import type { PhoneNumberDirectory } from './phone-number-directory.ts';
import type { RoutedStatus, StatusRecorder } from './status-recorder.ts';

export interface WebhookOptions {
  /** WHATSAPP_APP_SECRET: without it every POST is refused, since none can be verified. */
  appSecret: string | undefined;
  /** WHATSAPP_VERIFY_TOKEN: without it every verification is refused. */
  verifyToken: string | undefined;
  directory: PhoneNumberDirectory;
  inbound: InboundRecorder;
  statuses: StatusRecorder;
  metrics: InboundMetrics;
}

const PATH = '/webhooks/whatsapp';

const OUTCOMES: Readonly<Record<number, string>> = {
  200: 'ok',
  400: 'bad_request',
  401: 'invalid_signature',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'store_unavailable',
};

const verificationQuery = {
  type: 'object',
  properties: {
    'hub.mode': { type: 'string' },
    'hub.verify_token': { type: 'string' },
    'hub.challenge': { type: 'string' },
  },
} as const;

const signatureHeaders = {
  type: 'object',
  properties: { 'x-hub-signature-256': { type: 'string' } },
} as const;

const received = {
  type: 'object',
  properties: { status: { type: 'string', const: 'received' } },
} as const;

/**
 * Meta's webhook (DESIGN.md §3): the subscription handshake, then signed deliveries of messages and
 * statuses. A POST is verified on its raw bytes before anything else, and answered 200 only once every
 * message it carries for a known phone number is committed; nothing is written for a refused one.
 */
export const webhookRoutes: FastifyPluginAsync<WebhookOptions> = async (app, options) => {
  const { appSecret, verifyToken, directory, inbound, statuses, metrics } = options;
  let warnedNoSecret = false;

  // Scoped to this plugin: only here is JSON kept as the bytes Meta signed (its `\u` escapes included),
  // and Meta sends nothing but JSON, so every other content type is refused (415).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.method !== 'POST') return;
    metrics.webhookRequests.inc({ outcome: OUTCOMES[reply.statusCode] ?? String(reply.statusCode) });
  });

  app.get(PATH, { schema: { querystring: verificationQuery } }, async (request, reply) => {
    const query = request.query as Partial<Record<'hub.mode' | 'hub.verify_token' | 'hub.challenge', string>>;
    const token = query['hub.verify_token'];
    const challenge = query['hub.challenge'];
    if (
      !verifyToken ||
      query['hub.mode'] !== 'subscribe' ||
      token === undefined ||
      !sameSecret(token, verifyToken) ||
      challenge === undefined
    ) {
      throw new VerificationRefusedError();
    }
    return reply.type('text/plain; charset=utf-8').send(challenge);
  });

  app.post(PATH, { schema: { headers: signatureHeaders, response: { 200: received } } }, async (request) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (!appSecret) {
      if (!warnedNoSecret) {
        warnedNoSecret = true;
        request.log.warn('WHATSAPP_APP_SECRET is not set: every webhook is refused with 401');
      }
      throw new InvalidSignatureError();
    }
    const signature = request.headers['x-hub-signature-256'];
    if (!verifyWebhookSignature(rawBody, typeof signature === 'string' ? signature : undefined, appSecret)) {
      throw new InvalidSignatureError();
    }
    const webhook = parseBody(rawBody);
    const routed = route(webhook, directory);
    if (routed.unknown.size > 0) {
      const dropped = [...routed.unknown.values()].reduce((sum, count) => sum + count, 0);
      metrics.unknownPhoneNumber.inc(dropped);
      // Acknowledged, not retried forever: no workspace will ever claim these. No bodies in the log.
      request.log.warn(
        { phoneNumberIds: [...routed.unknown.keys()], dropped },
        'webhook for a phone number no workspace has: acknowledged and dropped',
      );
    }
    await inbound.record(routed.messages);
    countUnparsed(routed.messages, metrics, request.log);
    await statuses.record(routed.statuses);
    return { status: 'received' as const };
  });
};

function parseBody(rawBody: Buffer): ParsedWebhook {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new MalformedJsonError();
  }
  try {
    return parseWebhookPayload(body);
  } catch (error) {
    if (error instanceof WebhookPayloadError) throw new InvalidPayloadError(error.message);
    throw error;
  }
}

/** Each message and status goes to the workspace of its phone number; the rest are counted per number. */
function route(webhook: ParsedWebhook, directory: PhoneNumberDirectory) {
  const messages: RoutedMessage[] = [];
  const statuses: RoutedStatus[] = [];
  const unknown = new Map<string, number>();
  const workspaceOf = (phoneNumberId: string) => {
    const workspaceId = directory.lookup(phoneNumberId)?.workspaceId;
    if (workspaceId === undefined) unknown.set(phoneNumberId, (unknown.get(phoneNumberId) ?? 0) + 1);
    return workspaceId;
  };
  for (const message of webhook.messages) {
    const workspaceId = workspaceOf(message.phoneNumberId);
    if (workspaceId !== undefined) messages.push({ workspaceId, message });
  }
  for (const status of webhook.statuses) {
    const workspaceId = workspaceOf(status.phoneNumberId);
    if (workspaceId !== undefined) statuses.push({ workspaceId, status });
  }
  return { messages, statuses, unknown };
}

/**
 * Messages whose content had another shape than their type's were stored raw, without text (message-content.ts):
 * counted and logged by type and field names, never by content, so a change on Meta's side gets noticed.
 */
function countUnparsed(
  messages: readonly RoutedMessage[],
  metrics: InboundMetrics,
  log: Pick<FastifyBaseLogger, 'warn'>,
): void {
  const unparsed = messages.filter(({ message }) => message.contentProblems.length > 0);
  if (unparsed.length === 0) return;
  for (const { message } of unparsed) metrics.unparsedMessages.inc({ type: message.type });
  log.warn(
    {
      unparsed: unparsed.map(({ workspaceId, message }) => ({
        workspaceId,
        type: message.type,
        fields: message.contentProblems.map((problem) => problem.field),
      })),
    },
    'messages of another shape than their type documents: stored raw, without text',
  );
}

/** Compares digests, so neither the length nor the content of the token leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
