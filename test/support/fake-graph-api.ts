import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface RecordedGraphRequest {
  phoneNumberId: string;
  /** The `Authorization` header as sent, e.g. `Bearer EAAG…`. */
  authorization: string | undefined;
  /** The JSON body; undefined when the body was not a JSON object. */
  body: Record<string, unknown> | undefined;
  /** When it arrived, ms since epoch. */
  at: number;
  /** The HTTP status the fake answered with. */
  responseStatus: number;
  /** The wamid the fake gave an accepted message. */
  wamid?: string;
}

/** A Graph API error, as `failNext` sends it. */
export interface MetaFailure {
  status: number;
  code: number;
  title: string;
  /** Meta's `message`; by default "(#code) title", the way Meta writes it. */
  message?: string;
  /** `error_data.details`. */
  details?: string;
  subcode?: number;
  /** Sent as `Retry-After`; Meta itself rarely sends it, proxies in front of it do. */
  retryAfterSeconds?: number;
}

/** Meta's errors as the Cloud API answers them: note its rate limits come with 400, not 429. */
export const META_ERRORS = {
  throughput: {
    status: 400,
    code: 130429,
    title: 'Rate limit hit',
    details: 'Cloud API message throughput has been reached.',
  },
  pairRateLimit: {
    status: 400,
    code: 131056,
    title: '(Business Account, Consumer Account) pair rate limit hit',
    details:
      'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
  },
  rateLimitIssues: {
    status: 400,
    code: 80007,
    title: 'Rate limit issues',
    details: 'The WhatsApp Business Account has reached its rate limit.',
  },
  applicationRequestLimit: { status: 400, code: 4, title: 'Application request limit reached' },
  reengagement: {
    status: 400,
    code: 131047,
    title: 'Re-engagement message',
    details:
      'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
  },
  undeliverable: {
    status: 400,
    code: 131026,
    title: 'Message Undeliverable',
    details: 'Message failed to send.',
  },
  invalidParameter: { status: 400, code: 100, title: 'Invalid parameter' },
  somethingWentWrong: {
    status: 500,
    code: 131000,
    title: 'Something went wrong',
    details: 'Message failed to send because of an unknown error.',
  },
} satisfies Record<string, MetaFailure>;

export interface FakeGraphApi {
  /** For the client's `baseUrl`: `http://127.0.0.1:PORT/v23.0`. */
  url: string;
  /** Every request to a messages endpoint, rejected ones included. */
  requests: RecordedGraphRequest[];
  /** The messages (not read receipts) Meta accepted for this customer, in order. */
  messagesTo(waId: string): RecordedGraphRequest[];
  /** The next `count` valid requests get this error instead of success. */
  failNext(count: number, failure: MetaFailure): void;
  /** Holds back the answer to the next request, e.g. past the client's timeout. */
  delayNext(ms: number): void;
  /** Resolves once at least `count` requests have arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

// Any version, or none (Meta then uses the app's default version).
const MESSAGES_PATH = /^(?:\/v\d+(?:\.\d+)?)?\/([^/]+)\/messages\/?$/;

const traceId = () => `A${randomBytes(15).toString('base64url')}`;

const digits = (waId: string) => waId.replace(/\D/g, '');

function metaError(status: number, error: Record<string, unknown>, headers?: Record<string, string>): Answer {
  return { status, body: { error: { type: 'OAuthException', ...error, fbtrace_id: traceId() } }, headers };
}

function invalidParameter(message: string): Answer {
  return metaError(400, {
    message: `(#100) ${message}`,
    code: 100,
    error_data: { messaging_product: 'whatsapp', details: message },
  });
}

function failureAnswer(failure: MetaFailure): Answer {
  return metaError(
    failure.status,
    {
      message: failure.message ?? `(#${failure.code}) ${failure.title}`,
      code: failure.code,
      ...(failure.subcode === undefined ? {} : { error_subcode: failure.subcode }),
      ...(failure.details === undefined
        ? {}
        : { error_data: { messaging_product: 'whatsapp', details: failure.details } }),
    },
    failure.retryAfterSeconds === undefined
      ? undefined
      : { 'retry-after': String(failure.retryAfterSeconds) },
  );
}

/** What Meta checks before it takes a request: undefined when the body would be accepted. */
function validate(body: Record<string, unknown> | undefined): Answer | undefined {
  if (!body) return invalidParameter('The request body must be a JSON object.');
  const product = body.messaging_product;
  if (product === undefined) return invalidParameter('The parameter messaging_product is required.');
  if (product !== 'whatsapp') {
    return invalidParameter(`Param messaging_product must be one of {WHATSAPP} - got "${String(product)}".`);
  }
  if (body.status === 'read') {
    return typeof body.message_id === 'string'
      ? undefined
      : invalidParameter('The parameter message_id is required.');
  }
  if (typeof body.to !== 'string' || body.to === '') return invalidParameter('The parameter to is required.');
  // Meta takes a message without `type` as text.
  if ((body.type ?? 'text') === 'text') {
    const text = body.text as { body?: unknown } | undefined;
    if (typeof text?.body !== 'string') return invalidParameter("The parameter text['body'] is required.");
  }
  return undefined;
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A real HTTP server speaking the WhatsApp Cloud API's messages endpoint the way graph.facebook.com does:
 * Bearer token required, Meta's error bodies, a fresh wamid per accepted message. Tests script failures
 * and delays; the client under test talks to it over a socket.
 */
export async function startFakeGraphApi(
  options: {
    /** When set, any other token is refused as Meta refuses an expired one; otherwise any token passes. */
    accessToken?: string;
  } = {},
): Promise<FakeGraphApi> {
  const requests: RecordedGraphRequest[] = [];
  const failures: MetaFailure[] = [];
  const delays: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const arrivals = new Set<() => void>();
  let sent = 0;

  const send = (response: ServerResponse, answer: Answer) => {
    if (response.destroyed) return;
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    response.end(JSON.stringify(answer.body));
  };

  const authorize = (authorization: string | undefined): Answer | undefined => {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (token !== undefined && (options.accessToken === undefined || token === options.accessToken)) return;
    return metaError(
      401,
      { message: 'Invalid OAuth access token - Cannot parse access token', code: 190 },
      { 'www-authenticate': 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"' },
    );
  };

  const accept = (body: Record<string, unknown>): Answer => {
    if (body.status === 'read') return { status: 200, body: { success: true } };
    const to = body.to as string;
    const id = `wamid.${Buffer.from(`fake:${digits(to)}:${++sent}:${randomBytes(6).toString('hex')}`).toString('base64')}`;
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: digits(to) }],
        // Meta adds a status to template sends only.
        messages: [body.type === 'template' ? { id, message_status: 'accepted' } : { id }],
      },
    };
  };

  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const path = request.url?.split('?')[0] ?? '';
    const phoneNumberId = MESSAGES_PATH.exec(path)?.[1];
    if (request.method !== 'POST' || phoneNumberId === undefined) {
      send(response, metaError(400, { message: `Unknown path components: ${path}`, code: 2500 }));
      return;
    }
    const authorization = request.headers.authorization;
    // Scripted failures stand for Meta's state, so they only meet requests Meta would otherwise take.
    const rejection = authorize(authorization) ?? validate(body);
    const scripted = rejection ? undefined : failures.shift();
    const answer = rejection ?? (scripted ? failureAnswer(scripted) : accept(body!));
    const wamid = (answer.body as { messages?: { id: string }[] }).messages?.[0]?.id;
    requests.push({
      phoneNumberId,
      authorization,
      body,
      at: Date.now(),
      responseStatus: answer.status,
      wamid,
    });
    for (const arrived of arrivals) arrived();

    const delayMs = delays.shift();
    if (delayMs === undefined) return send(response, answer);
    const timer = setTimeout(() => {
      timers.delete(timer);
      send(response, answer);
    }, delayMs);
    timers.add(timer);
    // The client gave up (timeout or abort): nothing to answer.
    response.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v23.0`,
    requests,
    messagesTo: (waId) =>
      requests.filter(
        (r) =>
          r.responseStatus === 200 &&
          r.body?.status === undefined &&
          typeof r.body?.to === 'string' &&
          digits(r.body.to) === digits(waId),
      ),
    failNext: (count, failure) => {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    delayNext: (ms) => {
      delays.push(ms);
    },
    waitForRequests: (count, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.length >= count) return resolve();
        const timer = setTimeout(() => {
          arrivals.delete(check);
          reject(new Error(`expected ${count} Graph API requests, got ${requests.length}`));
        }, timeoutMs);
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          arrivals.delete(check);
          resolve();
        };
        arrivals.add(check);
      }),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
