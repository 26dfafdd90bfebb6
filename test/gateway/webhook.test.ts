import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HistoryEntry, SessionContext } from '../../src/machines/session.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createSessionStore } from '../../src/persistence/kysely-session-store.ts';
import { parseWebhookPayload } from '../../src/whatsapp/webhook-payload.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  APP_SECRET,
  postWebhook,
  type SignedWebhook,
  signed,
  signedFixture,
  statusWebhook,
  textMessagesWebhook,
  VERIFY_TOKEN,
  WEBHOOK_ENV,
} from '../support/meta-webhook.ts';
import { ACME_NUMBER, GLOBEX_NUMBER, testConfig } from '../support/test-config.ts';
import {
  META_FIXTURE_NAMES,
  metaFixture,
  metaFixtureBytes,
  valueAt,
  withValueAt,
} from '../whatsapp/meta-fixtures.ts';

const FIRST_MESSAGE = ['entry', 0, 'changes', 0, 'value', 'messages', 0] as const;
const SHEENA = '16505551234';

/** Every message fixture, with the row it must become: Meta's type and what the customer said. */
const MESSAGE_FIXTURES: [file: string, type: string, body: string | null][] = [
  ['text-message.json', 'text', 'Hi! What are your opening hours?'],
  ['image-message.json', 'image', 'This arrived broken'],
  ['audio-message.json', 'audio', null],
  ['video-message.json', 'video', 'The lid does not close'],
  ['document-message.json', 'document', 'Invoice for order 4417'],
  ['sticker-message.json', 'sticker', null],
  ['location-message.json', 'location', 'Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301'],
  ['location-pin-message.json', 'location', '37.4847,-122.1477'],
  ['contacts-message.json', 'contacts', 'Barbara J. Johnson, Marco Rossi'],
  ['interactive-button-reply.json', 'interactive', 'Talk to a person'],
  ['interactive-list-reply.json', 'interactive', 'Where is my order? — Track a recent delivery'],
  ['interactive-nfm-reply.json', 'interactive', 'Sent'],
  ['button-message.json', 'button', 'Talk to a person'],
  ['reaction-message.json', 'reaction', '👍'],
  ['reaction-removed-message.json', 'reaction', null],
  [
    'order-message.json',
    'order',
    '3 items: 2 × di9ozbzfi4 at 7.99 USD, 1 × nlk2zpqdr7 at 12.5 USD\nLove these!',
  ],
  ['system-message.json', 'system', 'User Sheena Nelson changed from 16505551234 to 12195555358'],
  ['request-welcome-message.json', 'request_welcome', null],
  ['unsupported-message.json', 'unsupported', null],
  ['unknown-type-message.json', 'hologram', null],
  ['forwarded-text-message.json', 'text', 'Is this promo real? 90% off everything today only'],
  ['referral-message.json', 'text', 'Do you ship succulents to Oregon?'],
  [
    'unicode-escapes-message.json',
    'text',
    'Merci ! La crème brûlée était parfaite 😊 https://example.com/a/b',
  ],
];
const STATUS_FIXTURES = [
  'status-sent.json',
  'status-delivered.json',
  'status-read.json',
  'status-failed.json',
];

let gateway: TestGateway;

async function inboundRow(wamid: string) {
  return gateway.database.db
    .selectFrom('messages')
    .selectAll()
    .where('direction', '=', 'in')
    .where('wamid', '=', wamid)
    .execute();
}

async function openSession(workspaceId: string, phoneNumberId: string, waId: string) {
  const { sessionKey } = gateway.engine.sessions.addressOf(workspaceId, phoneNumberId, waId);
  const row = await gateway.database.db
    .selectFrom('sessions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('session_key', '=', sessionKey)
    .where('closed_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { ...row, context: (row.snapshot as { context: SessionContext }).context };
}

function customerEntries(history: HistoryEntry[]) {
  return history.filter((entry) => entry.kind === 'customer');
}

async function post(webhook: SignedWebhook): Promise<Response> {
  const response = await postWebhook(gateway.baseUrl, webhook);
  await gateway.settle();
  return response;
}

describe('the WhatsApp webhook over HTTP', () => {
  beforeEach(async () => {
    const config = testConfig();
    // Room for every fixture in one conversation's history.
    config.workspaces[0]!.sessions.historyLimit = 100;
    gateway = await startTestGateway({ config });
  });

  afterEach(async () => {
    await gateway?.close();
  });

  describe('verification (GET)', () => {
    const verify = (query: Record<string, string>) =>
      fetch(`${gateway.baseUrl}/webhooks/whatsapp?${new URLSearchParams(query)}`);

    it('echoes the challenge as plain text when the mode is subscribe and the token matches', async () => {
      const response = await verify({
        'hub.mode': 'subscribe',
        'hub.verify_token': VERIFY_TOKEN,
        'hub.challenge': '1158201444',
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await response.text()).toBe('1158201444');
    });

    it('refuses a wrong token, a wrong mode or a missing challenge with 403', async () => {
      const refused: Record<string, string>[] = [
        { 'hub.mode': 'subscribe', 'hub.verify_token': 'guessed', 'hub.challenge': '1' },
        { 'hub.mode': 'unsubscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1' },
        { 'hub.mode': 'subscribe', 'hub.challenge': '1' },
        { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN },
      ];
      for (const query of refused) {
        const response = await verify(query);
        expect(response.status, JSON.stringify(query)).toBe(403);
        expect(await response.json()).toMatchObject({ error: 'verification_refused' });
      }
    });
  });

  describe('refusals (POST) that write nothing', () => {
    const text = signedFixture('text-message.json');

    it('answers 401 to a missing or wrong signature', async () => {
      const attempts: Record<string, string>[] = [
        { 'content-type': 'application/json' },
        {
          ...text.headers,
          'x-hub-signature-256': signed(text.body, 'another-app-secret').headers['x-hub-signature-256']!,
        },
        { ...text.headers, 'x-hub-signature-256': signed(Buffer.from('{}')).headers['x-hub-signature-256']! },
        { ...text.headers, 'x-hub-signature-256': 'sha1=0123456789abcdef0123456789abcdef01234567' },
      ];
      for (const headers of attempts) {
        const response = await post({ body: text.body, headers });
        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ error: 'invalid_signature' });
      }
      expect(await gateway.countMessages()).toBe(0);
      expect(gateway.agent.calls).toHaveLength(0);
    });

    it("verifies the raw bytes: Meta's \\u escapes pass, the same JSON re-serialized does not", async () => {
      const raw = signedFixture('unicode-escapes-message.json');
      expect(raw.body.toString('utf8')).toContain('\\u00e9');
      const reserialized = Buffer.from(JSON.stringify(JSON.parse(raw.body.toString('utf8'))));
      expect((await post({ body: reserialized, headers: raw.headers })).status).toBe(401);
      expect(await gateway.countMessages()).toBe(0);

      expect((await post(raw)).status).toBe(200);
      const wamid = valueAt(metaFixture('unicode-escapes-message.json'), [...FIRST_MESSAGE, 'id']) as string;
      const [row] = await inboundRow(wamid);
      expect(row).toMatchObject({
        body: 'Merci ! La crème brûlée était parfaite 😊 https://example.com/a/b',
        customer_name: 'Zoé Lefèvre',
      });
    });

    it('answers 400 to malformed JSON and to JSON that is not a WhatsApp Business Account payload', async () => {
      const malformed = await post(signed(Buffer.from('{"object":"whatsapp_business_account","entry":[')));
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ error: 'malformed_json' });

      const notWaba = await post(signed({ object: 'page', entry: [] }));
      expect(notWaba.status).toBe(400);
      expect(await notWaba.json()).toMatchObject({
        error: 'invalid_payload',
        message: expect.stringContaining('object: expected "whatsapp_business_account", got "page"'),
      });

      const badFrom = textMessagesWebhook([{ from: 'not.a.wa_id', wamid: 'wamid.x', text: 'hi', sentAt: 0 }]);
      const refused = await post(signed(badFrom));
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({
        error: 'invalid_payload',
        message: expect.stringContaining('from'),
      });
      expect(await gateway.countMessages()).toBe(0);
    });

    it('answers 400 to an id longer than any Meta sends, on the webhook and the sandbox API alike', async () => {
      // Past about 2,700 bytes Postgres refuses the (workspace, wamid) index entry: without the cap this
      // validly signed message was a 503, and Meta would have redelivered it for a week.
      const wamid = `wamid.${'Ω'.repeat(3_000)}`;
      const long = await post(
        signed(textMessagesWebhook([{ from: SHEENA, wamid, text: 'hi', sentAt: gateway.clock.now() }])),
      );
      expect(long.status).toBe(400);
      expect(await long.json()).toMatchObject({
        error: 'invalid_payload',
        message: expect.stringContaining('messages[0].id: longer than 256 characters'),
      });
      const longStatus = await post(signed(statusWebhook('status-read.json', { wamid })));
      expect(longStatus.status).toBe(400);

      const simulated = await fetch(`${gateway.baseUrl}/api/workspaces/acme/sandbox/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer alice-token-0123456789' },
        body: JSON.stringify({ from: SHEENA, message: { type: 'text', id: wamid, text: { body: 'hi' } } }),
      });
      expect(simulated.status).toBe(400);
      expect(await simulated.json()).toMatchObject({
        error: 'invalid_payload',
        message: expect.stringContaining('message.id: longer than 256 characters'),
      });
      expect(await gateway.countMessages()).toBe(0);
    });

    it('answers 400, not 503, to a message the database itself refuses, and records nothing of it', async () => {
      // Past the parser (whose cap stops this on the webhook): what the recorder does with a refusal.
      const parsed = parseWebhookPayload(
        textMessagesWebhook([{ from: SHEENA, wamid: 'wamid.ok', text: 'hi', sentAt: gateway.clock.now() }]),
      ).messages[0]!;
      const refused = gateway.engine.inbound.record([
        {
          workspaceId: 'acme',
          message: { ...parsed, wamid: `wamid.${randomBytes(3_000).toString('base64')}` },
        },
      ]);
      await expect(refused).rejects.toMatchObject({
        statusCode: 400,
        code: 'invalid_payload',
        message: expect.stringMatching(
          /^the database refused a message .*SQLSTATE 54000.*nothing was recorded$/,
        ),
      });
      expect(await gateway.countMessages()).toBe(0);
      // The database is fine: the next message is stored.
      await gateway.engine.inbound.record([{ workspaceId: 'acme', message: parsed }]);
      expect(await inboundRow('wamid.ok')).toHaveLength(1);
    });

    it('answers 400 to a status error code that is no 32-bit integer, before writing the messages beside it', async () => {
      // The database's integer column would refuse these after the request's messages were committed.
      for (const code of [1.5, 1e308, 3_000_000_000]) {
        const webhook = withValueAt(
          textMessagesWebhook([
            { from: SHEENA, wamid: `wamid.beside-${code}`, text: 'hi', sentAt: gateway.clock.now() },
          ]),
          ['entry', 0, 'changes', 0, 'value', 'statuses'],
          [
            {
              id: 'wamid.some-reply',
              status: 'failed',
              timestamp: '1749416383',
              recipient_id: SHEENA,
              errors: [{ code, title: 'Re-engagement message' }],
            },
          ],
        );
        const response = await post(signed(webhook as object));
        expect(response.status, String(code)).toBe(400);
        expect(await response.json()).toMatchObject({
          error: 'invalid_payload',
          message: expect.stringContaining(
            'errors[0].code: expected a whole error code that fits in 32 bits',
          ),
        });
      }
      expect(await gateway.countMessages()).toBe(0);
      expect(await gateway.database.db.selectFrom('unmatched_statuses').selectAll().execute()).toEqual([]);
    });

    it('answers 413 in JSON to a body over 3 MB, signed or not', async () => {
      const padding = 'x'.repeat(3 * 1024 * 1024);
      const oversized = signed({ ...(metaFixture('text-message.json') as object), padding });
      for (const webhook of [
        oversized,
        { body: oversized.body, headers: { 'content-type': 'application/json' } },
      ]) {
        const response = await post(webhook);
        expect(response.status).toBe(413);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await response.json()).toMatchObject({ error: 'payload_too_large' });
      }
      expect(await gateway.countMessages()).toBe(0);
    });
  });

  it('records every message fixture as an inbound row with its type and body, and the session applies each', async () => {
    for (const [file, type, body] of MESSAGE_FIXTURES) {
      const response = await post(signedFixture(file));
      expect(response.status, file).toBe(200);
      const message = valueAt(metaFixture(file), FIRST_MESSAGE);
      const rows = await inboundRow((message as { id: string }).id);
      expect(rows, file).toHaveLength(1);
      expect(rows[0], file).toMatchObject({ workspace_id: 'acme', type, body, customer_wa_id: SHEENA });
      // The Meta message object is kept whole, so a type the parser does not know loses nothing.
      expect(rows[0]!.payload, file).toEqual(message);
      expect(rows[0]!.applied_at, file).not.toBeNull();
    }
    const session = await openSession('acme', ACME_NUMBER, SHEENA);
    // Each one, once; their order within the turn is Meta's timestamps' (tested below), not the posting order.
    const byText = (a: unknown[], b: unknown[]) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(
      customerEntries(session.context.history)
        .map((entry) => [entry.type, entry.text])
        .sort(byText),
    ).toEqual(MESSAGE_FIXTURES.map(([, type, body]) => [type, body]).sort(byText));
    // Every fixture is exercised somewhere in this file.
    const covered = new Set([
      ...MESSAGE_FIXTURES.map(([file]) => file),
      ...STATUS_FIXTURES,
      'multi-entry-two-numbers.json',
      'template-status-update.json',
    ]);
    expect(META_FIXTURE_NAMES.filter((name) => !covered.has(name))).toEqual([]);
  });

  it('keeps a known type of another shape than documented raw, without text, and the rest of its webhook', async () => {
    const webhook = withValueAt(
      textMessagesWebhook([
        { from: SHEENA, wamid: 'wamid.odd', text: 'placeholder', sentAt: gateway.clock.now() },
        { from: '4420794960001', wamid: 'wamid.fine', text: 'Hello there', sentAt: gateway.clock.now() },
      ]),
      [...FIRST_MESSAGE, 'text'],
      { body: { rich: 'text' } },
    );
    const response = await post(signed(webhook as object));
    expect(response.status).toBe(200);
    const [odd] = await inboundRow('wamid.odd');
    expect(odd).toMatchObject({ type: 'text', body: null, workspace_id: 'acme' });
    expect(odd!.payload).toEqual(valueAt(webhook, FIRST_MESSAGE));
    expect(await inboundRow('wamid.fine')).toEqual([expect.objectContaining({ body: 'Hello there' })]);
    expect(await gateway.metric('botrelic_webhook_unparsed_messages_total{type="text"}')).toBe(1);
  });

  it('stores what a message refers to: the message replied to, the ad, the tapped button, the media', async () => {
    const files = [
      'interactive-button-reply.json',
      'forwarded-text-message.json',
      'referral-message.json',
      'image-message.json',
      'text-message.json',
    ];
    for (const file of files) expect((await post(signedFixture(file))).status, file).toBe(200);
    const details = async (file: string) => {
      const { id } = valueAt(metaFixture(file), FIRST_MESSAGE) as { id: string };
      const [row] = await inboundRow(id);
      return {
        context: row!.context,
        referral: row!.referral,
        interactiveReplyId: row!.interactive_reply_id,
        mediaId: row!.media_id,
      };
    };
    const none = { context: null, referral: null, interactiveReplyId: null, mediaId: null };
    expect(await details('interactive-button-reply.json')).toEqual({
      ...none,
      context: { from: '15550783881', id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJFQTc2MjE0QjI2NjBFNkQwQ0UA' },
      interactiveReplyId: 'talk_to_human',
    });
    expect(await details('forwarded-text-message.json')).toEqual({
      ...none,
      context: { from: null, id: null, forwarded: true, frequentlyForwarded: true },
    });
    expect(await details('referral-message.json')).toEqual({
      ...none,
      referral: valueAt(metaFixture('referral-message.json'), [...FIRST_MESSAGE, 'referral']),
    });
    expect(await details('image-message.json')).toEqual({
      ...none,
      mediaId: valueAt(metaFixture('image-message.json'), [...FIRST_MESSAGE, 'image', 'id']),
    });
    expect(await details('text-message.json')).toEqual(none);
    // Read back as the actor host reads a conversation's pending rows (recorded here without a doorbell).
    const store = createSessionStore(gateway.database.db);
    const address = gateway.engine.sessions.addressOf('globex', GLOBEX_NUMBER, '4915100000001');
    const context = { from: '15550783881', id: 'wamid.replied-to' };
    await store.recordInbound([
      {
        ...address,
        phoneNumberId: GLOBEX_NUMBER,
        customerWaId: '4915100000001',
        wamid: 'wamid.details',
        type: 'interactive',
        body: 'Talk to a person',
        customerName: null,
        payload: {},
        sentAt: gateway.clock.now(),
        context,
        referral: { source_type: 'ad' },
        interactiveReplyId: 'talk_to_human',
        mediaId: null,
      },
    ]);
    const [pending] = await store.listPendingInbound('globex', address.sessionKey);
    expect(pending).toMatchObject({
      context,
      referral: { source_type: 'ad' },
      interactiveReplyId: 'talk_to_human',
      mediaId: null,
    });
  });

  it('acknowledges the same webhook delivered twice and lets it take effect once', async () => {
    const webhook = signedFixture('text-message.json');
    expect((await post(webhook)).status).toBe(200);
    expect((await post(webhook)).status).toBe(200);
    const wamid = valueAt(metaFixture('text-message.json'), [...FIRST_MESSAGE, 'id']) as string;
    expect(await inboundRow(wamid)).toHaveLength(1);
    expect(gateway.agent.calls).toHaveLength(1);
    await gateway.agent.reply('We open at 9.');
    await gateway.settle();
    expect((await post(webhook)).status).toBe(200);
    expect(gateway.agent.calls).toHaveLength(1);
    expect(customerEntries((await openSession('acme', ACME_NUMBER, SHEENA)).context.history)).toHaveLength(1);
    expect(await gateway.metric('botrelic_inbound_duplicates_total')).toBe(2);
    expect(await gateway.metric('botrelic_inbound_messages_recorded_total')).toBe(1);
  });

  it('routes a batch spanning two workspaces, each message once into its own', async () => {
    const webhook = signedFixture('multi-entry-two-numbers.json');
    expect((await post(webhook)).status).toBe(200);
    expect((await post(webhook)).status).toBe(200);
    const rows = await gateway.database.db
      .selectFrom('messages')
      .select(['workspace_id', 'phone_number_id', 'customer_wa_id', 'body'])
      .orderBy('workspace_id')
      .orderBy('sent_at')
      .execute();
    expect(rows).toEqual([
      {
        workspace_id: 'acme',
        phone_number_id: ACME_NUMBER,
        customer_wa_id: '393471234567',
        body: 'Avete il modello blu?',
      },
      {
        workspace_id: 'acme',
        phone_number_id: ACME_NUMBER,
        customer_wa_id: SHEENA,
        body: 'My parcel is late',
      },
      { workspace_id: 'globex', phone_number_id: GLOBEX_NUMBER, customer_wa_id: '5215512345678', body: null },
      {
        workspace_id: 'globex',
        phone_number_id: GLOBEX_NUMBER,
        customer_wa_id: '5215512345678',
        body: 'Llegó así',
      },
    ]);
    const luis = await openSession('globex', GLOBEX_NUMBER, '5215512345678');
    expect(customerEntries(luis.context.history).map((entry) => entry.type)).toEqual(['image', 'text']);
    expect(gateway.agent.calls.map((call) => call.workspaceId).sort()).toEqual(['acme', 'acme', 'globex']);
  });

  it('acknowledges an unknown phone number, counts it and writes nothing', async () => {
    const stranger = textMessagesWebhook(
      [{ from: SHEENA, wamid: 'wamid.stranger', text: 'hello?', sentAt: 1_749_416_700_000 }],
      '100000000000001',
    );
    const response = await post(signed(stranger));
    expect(response.status).toBe(200);
    expect(await gateway.countMessages()).toBe(0);
    expect(await gateway.metric('botrelic_webhook_unknown_phone_number_total')).toBe(1);
    expect(await gateway.metric('botrelic_webhook_requests_total{outcome="ok"}')).toBe(1);
  });

  it('acknowledges changes of other webhook fields without writing', async () => {
    expect((await post(signedFixture('template-status-update.json'))).status).toBe(200);
    expect(await gateway.countMessages()).toBe(0);
  });

  it("applies a webhook's messages in Meta timestamp order, not the order they came in", async () => {
    const t = 1_749_416_700_000;
    const webhook = textMessagesWebhook([
      { from: '4915112345678', wamid: 'wamid.third', text: 'third', sentAt: t + 3_000 },
      { from: '4915112345678', wamid: 'wamid.first', text: 'first', sentAt: t + 1_000 },
      { from: '4915112345678', wamid: 'wamid.second', text: 'second', sentAt: t + 2_000 },
    ]);
    expect((await post(signed(webhook))).status).toBe(200);
    const session = await openSession('acme', ACME_NUMBER, '4915112345678');
    expect(customerEntries(session.context.history).map((entry) => entry.text)).toEqual([
      'first',
      'second',
      'third',
    ]);
    // One burst, one AI call, with the messages in that order.
    expect(gateway.agent.calls).toHaveLength(1);
    expect(gateway.agent.calls[0]!.unanswered.map((message) => message.text)).toEqual([
      'first',
      'second',
      'third',
    ]);
  });

  it('answers a stale backlog once, even when Meta redelivers it one webhook at a time', async () => {
    const customer = '4475571234567';
    const outageStart = gateway.clock.now() - 3 * 3_600_000;
    const backlog = [0, 1, 2].map((i) => ({
      from: customer,
      wamid: `wamid.backlog-${i}`,
      text: `backlog ${i}`,
      sentAt: outageStart + i * 60_000,
    }));
    expect((await post(signed(textMessagesWebhook([backlog[0]!])))).status).toBe(200);
    expect(gateway.agent.calls).toHaveLength(1);
    await gateway.agent.reply('Sorry for the wait: we are back.');
    await gateway.settle();

    for (const message of backlog.slice(1)) {
      gateway.clock.advance(30_000);
      expect((await post(signed(textMessagesWebhook([message])))).status).toBe(200);
    }
    expect(gateway.agent.calls).toHaveLength(1);
    const session = await openSession('acme', ACME_NUMBER, customer);
    expect(session.state).toBe('active');
    expect(customerEntries(session.context.history).map((entry) => entry.text)).toEqual([
      'backlog 0',
      'backlog 1',
      'backlog 2',
    ]);
    expect(session.context.history.filter((entry) => entry.kind === 'ai')).toHaveLength(1);

    // Not silenced: the customer's next fresh message is answered, with the late backlog in view.
    const fresh = { from: customer, wamid: 'wamid.fresh', text: 'still there?', sentAt: gateway.clock.now() };
    expect((await post(signed(textMessagesWebhook([fresh])))).status).toBe(200);
    expect(gateway.agent.calls).toHaveLength(2);
    expect(gateway.agent.calls[1]!.unanswered.map((message) => message.text)).toEqual([
      'backlog 1',
      'backlog 2',
      'still there?',
    ]);
  });

  it('answers a stale backlog delivered in one webhook with one AI call', async () => {
    const outageStart = gateway.clock.now() - 5 * 3_600_000;
    const backlog = [0, 1, 2].map((i) => ({
      from: '4475570000001',
      wamid: `wamid.burst-${i}`,
      text: `burst ${i}`,
      sentAt: outageStart + i * 1_000,
    }));
    expect((await post(signed(textMessagesWebhook(backlog)))).status).toBe(200);
    expect(gateway.agent.calls).toHaveLength(1);
    expect(gateway.agent.calls[0]!.unanswered).toHaveLength(3);
  });

  describe('statuses', () => {
    const customer = '4420794960000';
    let asked = 0;

    /** An AI reply delivered by the sender, which stored the wamid it was given (Meta's, or the sandbox's). */
    async function sentReply(): Promise<string> {
      const before = gateway.agent.calls.length;
      const question = {
        from: customer,
        wamid: `wamid.ask-${++asked}`,
        text: 'Where is my parcel?',
        sentAt: gateway.clock.now(),
      };
      expect((await post(signed(textMessagesWebhook([question])))).status).toBe(200);
      expect(gateway.agent.calls).toHaveLength(before + 1);
      await gateway.agent.reply('It is on its way.');
      await gateway.settle();
      for (let attempt = 0; attempt < 500; attempt++) {
        const row = await gateway.database.db
          .selectFrom('messages')
          .select(['wamid', 'status'])
          .where('workspace_id', '=', 'acme')
          .where('direction', '=', 'out')
          .orderBy('id', 'desc')
          .executeTakeFirst();
        if (row?.wamid && row.status === 'sent') return row.wamid;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('the sender never marked the reply sent');
    }

    async function outbound(wamid: string) {
      return gateway.database.db
        .selectFrom('messages')
        .select(['status', 'error_code', 'error_title'])
        .where('wamid', '=', wamid)
        .executeTakeFirstOrThrow();
    }

    it('only ever move a message forward: read before delivered, delivered after read changes nothing', async () => {
      const wamid = await sentReply();

      // Another workspace's number cannot touch acme's message.
      const viaGlobex = JSON.stringify(statusWebhook('status-read.json', { wamid })).replaceAll(
        ACME_NUMBER,
        GLOBEX_NUMBER,
      );
      expect((await post(signed(Buffer.from(viaGlobex)))).status).toBe(200);
      expect(await outbound(wamid)).toMatchObject({ status: 'sent' });

      expect((await post(signed(statusWebhook('status-read.json', { wamid })))).status).toBe(200);
      expect(await outbound(wamid)).toMatchObject({ status: 'read' });
      expect((await post(signed(statusWebhook('status-delivered.json', { wamid })))).status).toBe(200);
      expect((await post(signed(statusWebhook('status-sent.json', { wamid })))).status).toBe(200);
      expect((await post(signed(statusWebhook('status-read.json', { wamid })))).status).toBe(200);
      expect(await outbound(wamid)).toMatchObject({ status: 'read', error_code: null });
      expect(await gateway.metric('botrelic_webhook_statuses_total{result="applied"}')).toBe(1);
    });

    it("store a failure with Meta's code and title and record it once in the session", async () => {
      const delivered = await sentReply();
      expect((await post(signed(statusWebhook('status-delivered.json', { wamid: delivered })))).status).toBe(
        200,
      );
      expect(await outbound(delivered)).toMatchObject({ status: 'delivered' });

      const failed = await sentReply();
      const failure = signed(statusWebhook('status-failed.json', { wamid: failed }));
      expect((await post(failure)).status).toBe(200);
      expect((await post(failure)).status).toBe(200);
      expect(await outbound(failed)).toEqual({
        status: 'failed',
        error_code: 131047,
        error_title: 'Re-engagement message',
      });
      const session = await openSession('acme', ACME_NUMBER, customer);
      expect(session.context.history.filter((entry) => entry.kind === 'delivery_failed')).toEqual([
        expect.objectContaining({ wamid: failed, code: 131047, title: 'Re-engagement message' }),
      ]);
      expect(await outbound(delivered)).toMatchObject({ status: 'delivered' });
    });
  });

  it('commits concurrent requests in shared transactions, each durable before its 200', async () => {
    const requests = 100;
    const before = await gateway.metric('botrelic_inbound_commit_batch_size_count');
    const outcomes = await Promise.all(
      Array.from({ length: requests }, async (_, i) => {
        const wamid = `wamid.concurrent-${i}`;
        const webhook = textMessagesWebhook([
          { from: String(4930000000 + i), wamid, text: `message ${i}`, sentAt: gateway.clock.now() },
        ]);
        const response = await postWebhook(gateway.baseUrl, signed(webhook));
        // Read the moment the 200 arrives: the row must already be committed.
        return { status: response.status, rows: (await inboundRow(wamid)).length };
      }),
    );
    expect(outcomes).toEqual(Array.from({ length: requests }, () => ({ status: 200, rows: 1 })));
    const commits = (await gateway.metric('botrelic_inbound_commit_batch_size_count')) - before;
    expect(commits).toBeLessThan(requests);
    expect(await gateway.metric('botrelic_inbound_commit_batch_size_sum')).toBe(requests);
    console.log(`group commit: ${requests} concurrent webhooks committed in ${commits} transactions`);
  });

  it('commits a webhook carrying more messages than one insert takes', async () => {
    // 6,000 rows of 18 columns would need 108,000 bind parameters in one statement; Postgres allows 65,535.
    const messages = Array.from({ length: 6_000 }, (_, i) => ({
      from: '3360000000',
      wamid: `wamid.bulk-${i}`,
      text: `bulk ${i}`,
      sentAt: gateway.clock.now() - 1_000,
    }));
    const response = await postWebhook(gateway.baseUrl, signed(textMessagesWebhook(messages)));
    expect(response.status).toBe(200);
    expect(await gateway.countMessages()).toBe(6_000);
  });

  it('stores text Postgres cannot hold (U+0000, a lone surrogate) with U+FFFD instead of failing forever', async () => {
    const body = Buffer.from(
      JSON.stringify(
        textMessagesWebhook([{ from: SHEENA, wamid: 'wamid.nul', text: 'a', sentAt: gateway.clock.now() }]),
      ).replace('"body":"a"', '"body":"a\\u0000b\\ud800c","extra":{"k\\u0000":"\\udc00"}'),
    );
    const response = await post(signed(body));
    expect(response.status).toBe(200);
    const [row] = await inboundRow('wamid.nul');
    expect(row!.body).toBe('a\uFFFDb\uFFFDc');
  });
});

describe('the WhatsApp webhook, its logs and its environment', () => {
  const logs: Record<string, unknown>[] = [];

  beforeEach(async () => {
    logs.length = 0;
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logs.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    gateway = await startTestGateway({
      env: { ...WEBHOOK_ENV, BOTRELIC_STALE_MESSAGE_AGE: '5m' },
      logger: createLogger({ level: 'info', destination }),
    });
  });

  afterEach(async () => {
    await gateway?.close();
  });

  it("logs a webhook for an unknown phone number, naming the number and the count, never the customer's words", async () => {
    const stranger = textMessagesWebhook(
      [
        {
          from: SHEENA,
          wamid: 'wamid.stranger-1',
          text: 'my card number is 4111',
          sentAt: gateway.clock.now(),
        },
        { from: SHEENA, wamid: 'wamid.stranger-2', text: 'and my address', sentAt: gateway.clock.now() },
      ],
      '100000000000001',
    );
    expect((await post(signed(stranger))).status).toBe(200);
    expect(logs.filter((log) => String(log.msg).includes('no workspace has'))).toEqual([
      expect.objectContaining({ level: 40, phoneNumberIds: ['100000000000001'], dropped: 2 }),
    ]);
    const written = JSON.stringify(logs);
    expect(written).not.toContain('4111');
    expect(written).not.toContain('my address');
    expect(await gateway.countMessages()).toBe(0);
    expect(await gateway.metric('botrelic_webhook_unknown_phone_number_total')).toBe(2);
  });

  it('judges staleness by BOTRELIC_STALE_MESSAGE_AGE from the environment', async () => {
    // Ten minutes late: fresh under the default hour, stale under the 5m this engine was started with.
    const customer = '4475579999999';
    const late = gateway.clock.now() - 10 * 60_000;
    const message = (n: number) => ({
      from: customer,
      wamid: `wamid.late-${n}`,
      text: `late ${n}`,
      sentAt: late + n,
    });
    expect((await post(signed(textMessagesWebhook([message(0)])))).status).toBe(200);
    expect(gateway.agent.calls).toHaveLength(1);
    await gateway.agent.reply('Sorry for the wait.');
    await gateway.settle();
    // Redelivered after the answer: recorded, not answered again (as a fresh message would be).
    expect((await post(signed(textMessagesWebhook([message(1)])))).status).toBe(200);
    expect(gateway.agent.calls).toHaveLength(1);
    const session = await openSession('acme', ACME_NUMBER, customer);
    expect(customerEntries(session.context.history).map((entry) => entry.text)).toEqual(['late 0', 'late 1']);
  });
});

describe('the WhatsApp webhook without WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN', () => {
  const logs: { level: number; msg: string }[] = [];

  beforeEach(async () => {
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logs.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    gateway = await startTestGateway({ env: {}, logger: createLogger({ level: 'warn', destination }) });
  });

  afterEach(async () => {
    await gateway?.close();
  });

  it('refuses every verification and every delivery, warning once that the secret is missing', async () => {
    const verification = await fetch(
      `${gateway.baseUrl}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=&hub.challenge=1`,
    );
    expect(verification.status).toBe(403);
    for (let i = 0; i < 3; i++) {
      const response = await post(signed(metaFixtureBytes('text-message.json'), APP_SECRET));
      expect(response.status).toBe(401);
    }
    expect(await gateway.countMessages()).toBe(0);
    expect(logs.filter((log) => log.msg.includes('WHATSAPP_APP_SECRET'))).toHaveLength(1);
  });
});
