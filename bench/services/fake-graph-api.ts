import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message the engine sent through the Graph API, as the fake accepted it. */
export interface ReceivedReply {
  /** The wamid the fake issued for it: what the engine stores and what statuses name. */
  wamid: string;
  phoneNumberId: string;
  to: string;
  text: string;
  /** performance.now() of the bench process when the request arrived. */
  at: number;
}

export interface FakeGraphApi {
  /** For WHATSAPP_GRAPH_URL: `http://127.0.0.1:PORT/v23.0`. */
  url: string;
  /** Every accepted message, in arrival order. */
  replies: ReceivedReply[];
  /** Requests refused (unknown token, bad body): the engine never should send one. */
  refused: number;
  /** Read receipts (`status: read`) the engine sent for customers' messages. */
  readReceipts: number;
  onReply?: (reply: ReceivedReply) => void;
  close(): Promise<void>;
}

const MESSAGES_PATH = /^\/v\d+(?:\.\d+)?\/(\d+)\/messages$/;

/**
 * The Cloud API's messages endpoint, lean: it checks the bearer token of the phone number, issues a fresh
 * wamid per message and records when each arrived, so the bench can tie replies to customers and time them.
 */
export async function startFakeGraphApi(tokens: ReadonlyMap<string, string>): Promise<FakeGraphApi> {
  let issued = 0;
  const salt = randomBytes(4).toString('hex');
  const api: FakeGraphApi = {
    url: '',
    replies: [],
    refused: 0,
    readReceipts: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const answer = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  const handle = (request: IncomingMessage, response: ServerResponse, raw: string) => {
    const at = performance.now();
    const phoneNumberId = MESSAGES_PATH.exec(request.url ?? '')?.[1];
    const token = tokens.get(phoneNumberId ?? '');
    if (request.method !== 'POST' || !phoneNumberId || request.headers.authorization !== `Bearer ${token}`) {
      api.refused++;
      return answer(response, 401, { error: { message: 'Invalid OAuth access token', code: 190 } });
    }
    let body: { to?: unknown; status?: unknown; text?: { body?: unknown } };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      api.refused++;
      return answer(response, 400, { error: { message: '(#100) Invalid parameter', code: 100 } });
    }
    if (body.status === 'read') {
      api.readReceipts++;
      return answer(response, 200, { success: true });
    }
    if (typeof body.to !== 'string' || typeof body.text?.body !== 'string') {
      api.refused++;
      return answer(response, 400, { error: { message: '(#100) Invalid parameter', code: 100 } });
    }
    const wamid = `wamid.${Buffer.from(`bench:${salt}:${++issued}`).toString('base64')}`;
    const reply: ReceivedReply = { wamid, phoneNumberId, to: body.to, text: body.text.body, at };
    api.replies.push(reply);
    answer(response, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: body.to }],
      messages: [{ id: wamid }],
    });
    api.onReply?.(reply);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v23.0`;
  return api;
}
