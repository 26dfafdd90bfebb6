import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createGraphApiClient,
  type GraphApiClient,
  GraphApiError,
  type OutboundMessage,
} from '../../src/whatsapp/graph-api-client.ts';
import {
  type FakeGraphApi,
  META_ERRORS,
  type MetaFailure,
  startFakeGraphApi,
} from '../support/fake-graph-api.ts';

const PHONE_NUMBER_ID = '106540352242922';
const TOKEN = 'EAAGm0PX4ZCpsBAFakeTokenThatMustNeverLeak';
const CUSTOMER = '16505551234';
const credentials = { phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN };

let fake: FakeGraphApi;
let client: GraphApiClient;

beforeEach(async () => {
  fake = await startFakeGraphApi({ accessToken: TOKEN });
  client = createGraphApiClient({ baseUrl: fake.url });
});

afterEach(async () => {
  await fake.close();
});

async function failureOf(call: Promise<unknown>): Promise<GraphApiError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GraphApiError);
  return error as GraphApiError;
}

const sendText = (body = 'Your order ships tomorrow.') =>
  client.sendMessage({ ...credentials, to: CUSTOMER, message: { type: 'text', text: { body } } });

/** A client whose fetch answers with this Response, for answers the fake Graph API never gives. */
const answering = (response: Response) => createGraphApiClient({ fetch: async () => response });

describe('sendMessage', () => {
  it("posts a text message to the phone number's messages endpoint and returns Meta's wamid", async () => {
    const { wamid } = await client.sendMessage({
      ...credentials,
      to: CUSTOMER,
      message: { type: 'text', text: { body: 'See https://example.com/track', preview_url: true } },
    });

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.phoneNumberId).toBe(PHONE_NUMBER_ID);
    expect(request?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: CUSTOMER,
      type: 'text',
      text: { body: 'See https://example.com/track', preview_url: true },
    });
    expect(wamid).toMatch(/^wamid\.[A-Za-z0-9+/=]+$/);
    expect(fake.messagesTo(CUSTOMER)).toHaveLength(1);
  });

  it('returns a distinct wamid for every message', async () => {
    const first = await sendText('one');
    const second = await sendText('two');
    expect(first.wamid).not.toBe(second.wamid);
  });

  it('sends a template with its language and parameters', async () => {
    const message: OutboundMessage = {
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Sheena' },
              { type: 'text', text: '#4512' },
            ],
          },
          {
            type: 'button',
            sub_type: 'quick_reply',
            index: 0,
            parameters: [{ type: 'payload', payload: 'TRACK' }],
          },
        ],
      },
    };
    const { wamid } = await client.sendMessage({ ...credentials, to: CUSTOMER, message });

    expect(wamid).toMatch(/^wamid\./);
    expect(fake.requests[0]?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: CUSTOMER,
      ...message,
    });
  });

  it('sends interactive reply buttons', async () => {
    const message: OutboundMessage = {
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Did that answer your question?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'answered', title: 'Yes, thanks' } },
            { type: 'reply', reply: { id: 'human', title: 'Talk to a person' } },
          ],
        },
      },
    };
    await client.sendMessage({ ...credentials, to: CUSTOMER, message });

    expect(fake.requests[0]?.body).toMatchObject({ to: CUSTOMER, ...message });
  });

  it('accepts a base URL with a trailing slash', async () => {
    const slashed = createGraphApiClient({ baseUrl: `${fake.url}/` });
    await slashed.sendMessage({
      ...credentials,
      to: CUSTOMER,
      message: { type: 'text', text: { body: 'hi' } },
    });
    expect(fake.requests[0]?.phoneNumberId).toBe(PHONE_NUMBER_ID);
  });

  it('refuses an answer without a message id, as not retryable: Meta may have taken the message', async () => {
    const error = await failureOf(
      answering(Response.json({ messaging_product: 'whatsapp', messages: [] })).sendMessage({
        ...credentials,
        to: CUSTOMER,
        message: { type: 'text', text: { body: 'hi' } },
      }),
    );
    expect(error).toMatchObject({ status: 200, retryable: false, title: 'Unexpected response' });
  });
});

describe('markAsRead', () => {
  it('marks the message read and shows the typing indicator', async () => {
    await expect(
      client.markAsRead({
        ...credentials,
        wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
        typingIndicator: true,
      }),
    ).resolves.toBeUndefined();

    expect(fake.requests[0]?.body).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      typing_indicator: { type: 'text' },
    });
    // A read receipt is not a message to the customer.
    expect(fake.messagesTo(CUSTOMER)).toEqual([]);
  });

  it('leaves the typing indicator out unless asked for', async () => {
    await client.markAsRead({ ...credentials, wamid: 'wamid.ABC' });
    expect(fake.requests[0]?.body).toEqual({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.ABC',
    });
  });
});

describe('errors', () => {
  it.each<[string, MetaFailure, boolean]>([
    ['throughput limit', META_ERRORS.throughput, true],
    ['pair rate limit', META_ERRORS.pairRateLimit, true],
    ['rate limit issues', META_ERRORS.rateLimitIssues, true],
    ['application request limit', META_ERRORS.applicationRequestLimit, true],
    ['unknown API error', { status: 400, code: 1, title: 'An unknown error occurred' }, true],
    ['API service error', { status: 503, code: 2, title: 'Service temporarily unavailable' }, true],
    ['server error', META_ERRORS.somethingWentWrong, true],
    ['HTTP 429', { status: 429, code: 130429, title: 'Rate limit hit' }, true],
    ['re-engagement (outside the 24-hour window)', META_ERRORS.reengagement, false],
    ['undeliverable', META_ERRORS.undeliverable, false],
    ['invalid parameter', META_ERRORS.invalidParameter, false],
  ])('maps %s to code, title, details and retryable=%s', async (_, failure, retryable) => {
    fake.failNext(1, failure);
    const error = await failureOf(sendText());

    expect(error).toMatchObject({
      status: failure.status,
      code: failure.code,
      title: failure.title,
      details: failure.details,
      retryable,
      retryAfterMs: undefined,
    });
    expect(error.fbtraceId).toMatch(/^A/);
    expect(error.message).toContain(`(#${failure.code})`);
    expect(error.message).toContain(failure.title);
  });

  it('passes the Meta subcode through', async () => {
    fake.failNext(1, { ...META_ERRORS.throughput, subcode: 2494055 });
    expect(await failureOf(sendText())).toMatchObject({ code: 130429, subcode: 2494055 });
  });

  it('fails exactly the scripted number of requests, then succeeds', async () => {
    fake.failNext(2, META_ERRORS.somethingWentWrong);
    await failureOf(sendText());
    await failureOf(sendText());
    await expect(sendText()).resolves.toMatchObject({ wamid: expect.stringMatching(/^wamid\./) });
    expect(fake.requests.map((r) => r.responseStatus)).toEqual([500, 500, 200]);
    expect(fake.messagesTo(CUSTOMER)).toHaveLength(1);
  });

  it('reads Retry-After in seconds', async () => {
    fake.failNext(1, { ...META_ERRORS.throughput, status: 429, retryAfterSeconds: 7 });
    expect(await failureOf(sendText())).toMatchObject({ status: 429, retryable: true, retryAfterMs: 7_000 });
  });

  it('reads Retry-After as an HTTP date', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const error = await failureOf(
      answering(new Response('', { status: 503, headers: { 'retry-after': at } })).markAsRead({
        ...credentials,
        wamid: 'wamid.ABC',
      }),
    );
    expect(error.retryAfterMs).toBeGreaterThan(28_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it("maps a body that is not Meta's (a proxy's HTML page) by its status alone", async () => {
    const error = await failureOf(
      answering(new Response('<html><body>Bad Gateway</body></html>', { status: 502 })).markAsRead({
        ...credentials,
        wamid: 'wamid.ABC',
      }),
    );
    expect(error).toMatchObject({
      status: 502,
      code: undefined,
      title: 'HTTP 502',
      details: undefined,
      retryable: true,
    });
  });

  it('refuses a wrong token with OAuth code 190, not retryable, and never repeats the token', async () => {
    const wrong = 'EAAGwrongTokenValue123';
    const error = await failureOf(
      client.sendMessage({
        ...credentials,
        accessToken: wrong,
        to: CUSTOMER,
        message: { type: 'text', text: { body: 'x' } },
      }),
    );
    expect(error).toMatchObject({ status: 401, code: 190, retryable: false });
    expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toContain(wrong);
  });

  it('refuses a request without a token with code 190', async () => {
    const error = await failureOf(
      client.sendMessage({
        ...credentials,
        accessToken: '',
        to: CUSTOMER,
        message: { type: 'text', text: { body: 'x' } },
      }),
    );
    expect(error).toMatchObject({ status: 401, code: 190, retryable: false });
  });

  it('cuts the token out of anything the server echoes back', async () => {
    fake.failNext(1, {
      ...META_ERRORS.invalidParameter,
      message: `(#100) Bad token ${TOKEN}`,
      details: `got ${TOKEN}`,
    });
    const error = await failureOf(sendText());
    const everything = `${error.message} ${error.title} ${error.details} ${error.stack} ${JSON.stringify(error)}`;
    expect(everything).not.toContain(TOKEN);
    expect(error.title).toBe('Bad token [redacted]');
  });

  it('turns a timeout into a retryable error with status 0', async () => {
    const impatient = createGraphApiClient({ baseUrl: fake.url, timeoutMs: 100 });
    fake.delayNext(2_000);
    const started = Date.now();
    const error = await failureOf(
      impatient.sendMessage({
        ...credentials,
        to: CUSTOMER,
        message: { type: 'text', text: { body: 'hi' } },
      }),
    );
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toMatchObject({ status: 0, retryable: true, title: 'Timeout', code: undefined });
    expect(error.message).toContain('timed out after 100 ms');
    expect(error.message).not.toContain(TOKEN);
  });

  it('turns an answer slower than usual but within the timeout into success', async () => {
    fake.delayNext(200);
    await expect(sendText()).resolves.toMatchObject({ wamid: expect.stringMatching(/^wamid\./) });
  });

  it('turns a refused connection into a retryable error with status 0', async () => {
    const gone = await startFakeGraphApi();
    await gone.close();
    const error = await failureOf(
      createGraphApiClient({ baseUrl: gone.url }).sendMessage({
        ...credentials,
        to: CUSTOMER,
        message: { type: 'text', text: { body: 'hi' } },
      }),
    );
    expect(error).toMatchObject({ status: 0, retryable: true, title: 'Network error' });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain(TOKEN);
  });
});

describe('fake Graph API', () => {
  const post = (path: string, body: unknown, authorization: string | null = `Bearer ${TOKEN}`) =>
    fetch(`${fake.url.replace('/v23.0', '')}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
      body: JSON.stringify(body),
    });

  it('answers any API version, and none', async () => {
    for (const path of [`/v21.0/${PHONE_NUMBER_ID}/messages`, `/${PHONE_NUMBER_ID}/messages`]) {
      const response = await post(path, {
        messaging_product: 'whatsapp',
        to: CUSTOMER,
        text: { body: 'hi' },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        messaging_product: 'whatsapp',
        contacts: [{ input: CUSTOMER, wa_id: CUSTOMER }],
        messages: [{ id: expect.stringMatching(/^wamid\./) }],
      });
    }
  });

  it.each<[string, unknown, string]>([
    ['no messaging_product', { to: CUSTOMER, text: { body: 'hi' } }, 'messaging_product is required'],
    [
      'another messaging_product',
      { messaging_product: 'sms', to: CUSTOMER, text: { body: 'hi' } },
      'got "sms"',
    ],
    ['no recipient', { messaging_product: 'whatsapp', text: { body: 'hi' } }, 'parameter to is required'],
    ['a text without body', { messaging_product: 'whatsapp', to: CUSTOMER, type: 'text' }, "text['body']"],
    ['a read receipt without message_id', { messaging_product: 'whatsapp', status: 'read' }, 'message_id'],
  ])('refuses %s with code 100', async (_, body, mentions) => {
    const response = await post(`/v23.0/${PHONE_NUMBER_ID}/messages`, body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: number; message: string } };
    expect(error.code).toBe(100);
    expect(error.message).toContain(mentions);
    expect(fake.requests[0]?.responseStatus).toBe(400);
    expect(fake.messagesTo(CUSTOMER)).toEqual([]);
  });

  it('refuses a request without a Bearer token with OAuth code 190 and records it', async () => {
    const response = await post(
      `/v23.0/${PHONE_NUMBER_ID}/messages`,
      { messaging_product: 'whatsapp' },
      null,
    );
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: 'OAuthException', code: 190 } });
    expect(fake.requests[0]).toMatchObject({
      phoneNumberId: PHONE_NUMBER_ID,
      authorization: undefined,
      responseStatus: 401,
    });
  });

  it('finds the messages of a customer however the number is written', async () => {
    await client.sendMessage({
      ...credentials,
      to: '+1 650-555-1234',
      message: { type: 'text', text: { body: 'a' } },
    });
    await client.sendMessage({
      ...credentials,
      to: '442071838750',
      message: { type: 'text', text: { body: 'b' } },
    });
    expect(fake.messagesTo(CUSTOMER).map((r) => r.body?.text)).toEqual([{ body: 'a' }]);
  });

  it('waits for requests that are still on their way', async () => {
    const arrived = fake.waitForRequests(2, 2_000);
    void sendText('one');
    void sendText('two');
    await expect(arrived).resolves.toBeUndefined();
    await expect(fake.waitForRequests(3, 50)).rejects.toThrow('expected 3 Graph API requests, got 2');
  });
});
