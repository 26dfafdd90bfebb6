import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  MessageCountTokensParams,
  MessageCreateParamsNonStreaming,
} from '@anthropic-ai/sdk/resources/messages';

export type FakeContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id?: string; name: string; input: unknown };

type FakeErrorType = 'invalid_request_error' | 'rate_limit_error' | 'api_error' | 'overloaded_error';

/** One scripted answer of the fake API; `delayMs` holds it back, e.g. past the client's timeout. */
export type FakeResponse = { delayMs?: number } & (
  | {
      content: FakeContentBlock[];
      /** Defaults to tool_use when a block calls a tool, else end_turn. */
      stopReason?: 'tool_use' | 'end_turn' | 'max_tokens';
      usage?: Partial<FakeUsage>;
    }
  | {
      status: number;
      error: { type: FakeErrorType; message: string };
      /** Sent as `retry-after-ms`, which the SDK obeys: lets retry tests skip its half-second backoff. */
      retryAfterMs?: number;
    }
  /** A 200 whose body is cut off mid-JSON. */
  | { malformed: true }
);

interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lowercased names, e.g. `authorization` (or `x-api-key`), `anthropic-version`, `anthropic-beta`. */
  headers: Record<string, string>;
  body: MessageCreateParamsNonStreaming;
}

type Script = FakeResponse | ((request: RecordedRequest) => FakeResponse);

export interface FakeMessagesApi {
  /** For the SDK's `baseURL`. */
  url: string;
  /** `POST /v1/messages`, in order. */
  requests: RecordedRequest[];
  /** `POST /v1/messages/count_tokens`, in order. */
  counts: MessageCountTokensParams[];
  /** Answers the next requests, in order. */
  enqueue(...responses: Script[]): void;
  /** Resolves once at least `count` requests have arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, FakeErrorType> = {
  400: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** An error answer in the API's shape, its type chosen from the status as the real API does. */
export function apiError(status: 400 | 429 | 500 | 529, message = `fake ${status}`): FakeResponse {
  return { status, error: { type: ERROR_TYPES[status]!, message } };
}

export const toolUse = (name: string, input: unknown, id?: string): FakeContentBlock => ({
  type: 'tool_use',
  name,
  input,
  ...(id === undefined ? {} : { id }),
});

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * A real HTTP server speaking the Anthropic Messages API (`POST /v1/messages`, non-streaming), scripted by the
 * test. The SDK under test talks to it over a socket exactly as it would to api.anthropic.com.
 */
export async function startFakeMessagesApi(
  options: {
    defaultResponse?: (request: RecordedRequest) => FakeResponse;
    /**
     * A request's input tokens: what `count_tokens` answers, and the `input_tokens` a response reports unless
     * scripted otherwise. 100 by default. `false` makes `count_tokens` a 404, like an endpoint without it.
     */
    inputTokens?: false | ((body: MessageCountTokensParams) => number);
  } = {},
): Promise<FakeMessagesApi> {
  const inputTokens = options.inputTokens ?? (() => 100);
  const requests: RecordedRequest[] = [];
  const counts: MessageCountTokensParams[] = [];
  const queue: Script[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const arrivals = new Set<() => void>();
  let counter = 0;

  const send = (
    response: ServerResponse,
    id: number,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    if (response.destroyed) return;
    response.writeHead(status, {
      'content-type': 'application/json',
      'request-id': `req_fake_${id}`,
      ...headers,
    });
    response.end(body);
  };

  const respond = (
    response: ServerResponse,
    id: number,
    recorded: RecordedRequest,
    scripted: FakeResponse,
  ) => {
    if ('malformed' in scripted) {
      send(response, id, 200, '{"id":"msg_fake","type":"message","role":"assistant","content":[{"type":"te');
    } else if ('error' in scripted) {
      const headers: Record<string, string> =
        scripted.retryAfterMs === undefined ? {} : { 'retry-after-ms': String(scripted.retryAfterMs) };
      send(response, id, scripted.status, JSON.stringify({ type: 'error', error: scripted.error }), headers);
    } else {
      const content = scripted.content.map((block, i) =>
        block.type === 'tool_use' ? { ...block, id: block.id ?? `toolu_fake_${id}_${i}` } : block,
      );
      const callsTool = content.some((block) => block.type === 'tool_use');
      const body = {
        id: `msg_fake_${id}`,
        type: 'message',
        role: 'assistant',
        model: recorded.body.model,
        content,
        stop_reason: scripted.stopReason ?? (callsTool ? 'tool_use' : 'end_turn'),
        stop_sequence: null,
        usage: {
          input_tokens: inputTokens ? inputTokens(recorded.body) : 100,
          output_tokens: 20,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          ...scripted.usage,
        },
      };
      send(response, id, 200, JSON.stringify(body));
    }
  };

  const server = createServer(async (request, response) => {
    const id = ++counter;
    const text = await readBody(request);
    const path = request.url?.split('?')[0];
    if (request.method === 'POST' && path === '/v1/messages/count_tokens' && inputTokens) {
      const body = JSON.parse(text) as MessageCountTokensParams;
      counts.push(body);
      send(response, id, 200, JSON.stringify({ input_tokens: inputTokens(body) }));
      return;
    }
    if (request.method !== 'POST' || path !== '/v1/messages') {
      send(
        response,
        id,
        404,
        JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'Not found' } }),
      );
      return;
    }
    const recorded: RecordedRequest = {
      method: request.method,
      path,
      headers: headersOf(request),
      body: JSON.parse(text) as MessageCreateParamsNonStreaming,
    };
    requests.push(recorded);
    for (const arrived of arrivals) arrived();
    const script = queue.shift() ?? options.defaultResponse;
    // A 400 is not retried, so a test that scripted too few answers fails at once and says why.
    const scripted = script
      ? typeof script === 'function'
        ? script(recorded)
        : script
      : apiError(400, 'fake Messages API: no scripted response left');
    if (!scripted.delayMs) return respond(response, id, recorded, scripted);
    const timer = setTimeout(() => {
      timers.delete(timer);
      respond(response, id, recorded, scripted);
    }, scripted.delayMs);
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
    url: `http://127.0.0.1:${port}`,
    requests,
    counts,
    enqueue: (...responses) => queue.push(...responses),
    waitForRequests: (count, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        if (requests.length >= count) return resolve();
        const timer = setTimeout(() => {
          arrivals.delete(check);
          reject(new Error(`expected ${count} requests, got ${requests.length}`));
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
