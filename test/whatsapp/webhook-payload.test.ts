import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStatusAdvance, statusRank } from '../../src/whatsapp/status-rank.ts';
import {
  type ParsedInboundMessage,
  type ParsedStatus,
  type ParsedWebhook,
  parseWebhookPayload,
  WebhookPayloadError,
} from '../../src/whatsapp/webhook-payload.ts';
import {
  type JsonPath,
  META_FIXTURE_NAMES,
  metaFixture,
  pathsOf,
  REMOVE,
  valueAt,
  withValueAt,
} from './meta-fixtures.ts';

const FIRST_MESSAGE: JsonPath = ['entry', 0, 'changes', 0, 'value', 'messages', 0];
const FIRST_STATUS: JsonPath = ['entry', 0, 'changes', 0, 'value', 'statuses', 0];

/** Sheena Nelson writing to the shared fixtures' business number, with nothing but the basics. */
const FROM_SHEENA = {
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '15550783881',
  customerWaId: '16505551234',
  customerName: 'Sheena Nelson',
  context: null,
  referral: null,
  interactiveReplyId: null,
  mediaId: null,
  contentProblems: [],
};

const BUSINESS_NUMBER = '15550783881';

const MESSAGE_CASES: [file: string, expected: Partial<ParsedInboundMessage>][] = [
  ['text-message.json', { type: 'text', text: 'Hi! What are your opening hours?', sentAt: 1749416383000 }],
  [
    'image-message.json',
    { type: 'image', text: 'This arrived broken', sentAt: 1749416400000, mediaId: '1003383421387256' },
  ],
  ['audio-message.json', { type: 'audio', text: null, sentAt: 1749416431000, mediaId: '1184352509883016' }],
  [
    'video-message.json',
    { type: 'video', text: 'The lid does not close', sentAt: 1749416442000, mediaId: '1426872308711930' },
  ],
  [
    'document-message.json',
    { type: 'document', text: 'Invoice for order 4417', sentAt: 1749416455000, mediaId: '2135409813548617' },
  ],
  [
    'sticker-message.json',
    { type: 'sticker', text: null, sentAt: 1749416468000, mediaId: '1395728104467329' },
  ],
  [
    'location-message.json',
    { type: 'location', text: 'Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301', sentAt: 1749416480000 },
  ],
  ['location-pin-message.json', { type: 'location', text: '37.4847,-122.1477', sentAt: 1749416486000 }],
  [
    'contacts-message.json',
    { type: 'contacts', text: 'Barbara J. Johnson, Marco Rossi', sentAt: 1749416497000 },
  ],
  [
    'interactive-button-reply.json',
    {
      type: 'interactive',
      text: 'Talk to a person',
      sentAt: 1749416420000,
      context: { from: BUSINESS_NUMBER, id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJFQTc2MjE0QjI2NjBFNkQwQ0UA' },
      interactiveReplyId: 'talk_to_human',
    },
  ],
  [
    'interactive-list-reply.json',
    {
      type: 'interactive',
      text: 'Where is my order? — Track a recent delivery',
      sentAt: 1749416510000,
      context: { from: BUSINESS_NUMBER, id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI0QzdFMkE5QjBEMUYzRTVBNjIA' },
      interactiveReplyId: 'order_status',
    },
  ],
  [
    'interactive-nfm-reply.json',
    {
      type: 'interactive',
      text: 'Sent',
      sentAt: 1749416523000,
      context: { from: BUSINESS_NUMBER, id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1RDhGM0IwQzFFMkE0RjZCNzMA' },
    },
  ],
  [
    'button-message.json',
    {
      type: 'button',
      text: 'Talk to a person',
      sentAt: 1749416536000,
      context: { from: BUSINESS_NUMBER, id: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI2RTlBNEMxRDJGM0I1QTdDODQA' },
      interactiveReplyId: 'talk_to_human',
    },
  ],
  ['reaction-message.json', { type: 'reaction', text: '👍', sentAt: 1749416548000 }],
  ['reaction-removed-message.json', { type: 'reaction', text: null, sentAt: 1749416552000 }],
  [
    'order-message.json',
    {
      type: 'order',
      text: '3 items: 2 × di9ozbzfi4 at 7.99 USD, 1 × nlk2zpqdr7 at 12.5 USD\nLove these!',
      sentAt: 1749416561000,
    },
  ],
  [
    'system-message.json',
    {
      type: 'system',
      text: 'User Sheena Nelson changed from 16505551234 to 12195555358',
      sentAt: 1749416574000,
      // System messages come without contacts.
      customerName: null,
    },
  ],
  ['request-welcome-message.json', { type: 'request_welcome', text: null, sentAt: 1749416580000 }],
  ['unsupported-message.json', { type: 'unsupported', text: null, sentAt: 1749416593000 }],
  ['unknown-type-message.json', { type: 'hologram', text: null, sentAt: 1749416605000 }],
  [
    'forwarded-text-message.json',
    {
      type: 'text',
      text: 'Is this promo real? 90% off everything today only',
      sentAt: 1749416617000,
      context: { from: null, id: null, forwarded: true, frequentlyForwarded: true },
    },
  ],
  [
    'referral-message.json',
    {
      type: 'text',
      text: 'Do you ship succulents to Oregon?',
      sentAt: 1749416630000,
      referral: expect.objectContaining({
        source_type: 'ad',
        source_id: '120226305854810726',
        source_url: 'https://fb.me/3cr4Wqqkv',
        headline: 'Chat with us',
        ctwa_clid: expect.stringMatching(/^Aff-n8ZTODiE79d22/),
        welcome_message: { text: 'Hi there! Let us know how we can help!' },
      }),
    },
  ],
  [
    'unicode-escapes-message.json',
    {
      type: 'text',
      text: 'Merci ! La crème brûlée était parfaite 😊 https://example.com/a/b',
      sentAt: 1749416645000,
      customerName: 'Zoé Lefèvre',
    },
  ],
];

const CONVERSATION = '6ceb9d929c1a4c4ad2b7d2d3e0a5e2b1';
const AI_REPLY = 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5RjJDNDFEMDdBM0I1RTZDMTgA';

const STATUS_CASES: [file: string, expected: ParsedStatus][] = [
  [
    'status-sent.json',
    {
      phoneNumberId: '106540352242922',
      wamid: AI_REPLY,
      status: 'sent',
      recipientWaId: '16505551234',
      at: 1749416388000,
      errors: [],
      conversationId: CONVERSATION,
      pricingCategory: 'service',
    },
  ],
  [
    'status-delivered.json',
    {
      phoneNumberId: '106540352242922',
      wamid: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI3QjE0RTIwRTg5NTc0NTVBNjEA',
      status: 'delivered',
      recipientWaId: '16505551234',
      at: 1749416390000,
      errors: [],
      conversationId: CONVERSATION,
      pricingCategory: 'service',
    },
  ],
  [
    'status-read.json',
    {
      phoneNumberId: '106540352242922',
      wamid: AI_REPLY,
      status: 'read',
      recipientWaId: '16505551234',
      at: 1749416402000,
      errors: [],
      conversationId: null,
      pricingCategory: null,
    },
  ],
  [
    'status-failed.json',
    {
      phoneNumberId: '106540352242922',
      wamid: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJBMUIyQzNENEU1RjZBN0I4QzkA',
      status: 'failed',
      recipientWaId: '16505551234',
      at: 1749503001000,
      errors: [
        {
          code: 131047,
          title: 'Re-engagement message',
          message: 'Re-engagement message',
          details:
            'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
        },
      ],
      conversationId: null,
      pricingCategory: null,
    },
  ],
];

/** The parse without the parts passed through verbatim (raw, referral), which carry added fields along. */
function withoutPassThrough(parsed: ParsedWebhook): unknown {
  return {
    ...parsed,
    messages: parsed.messages.map(({ raw: _raw, referral: _referral, ...message }) => message),
  };
}

describe('parseWebhookPayload on Meta fixtures', () => {
  it.each(MESSAGE_CASES)('reads %s', (file, expected) => {
    const body = metaFixture(file);
    const raw = valueAt(body, FIRST_MESSAGE) as Record<string, unknown>;
    expect(parseWebhookPayload(body)).toEqual({
      messages: [{ ...FROM_SHEENA, wamid: raw.id, raw, ...expected }],
      statuses: [],
      ignoredChanges: 0,
    });
  });

  it.each(STATUS_CASES)('reads %s', (file, expected) => {
    expect(parseWebhookPayload(metaFixture(file))).toEqual({
      messages: [],
      statuses: [expected],
      ignoredChanges: 0,
    });
  });

  it('names the wamid Meta sent', () => {
    const [message] = parseWebhookPayload(metaFixture('text-message.json')).messages;
    expect(message?.wamid).toBe('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=');
  });

  it('keeps a message of an unknown type whole, with nothing read from it', () => {
    const [message] = parseWebhookPayload(metaFixture('unknown-type-message.json')).messages;
    expect(message).toMatchObject({ type: 'hologram', text: null, mediaId: null, interactiveReplyId: null });
    expect(message?.raw.hologram).toEqual({
      id: '1590022873318464',
      duration_seconds: 12,
      preview: { format: 'glb' },
    });
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'reads a type named %s as unknown',
    (type) => {
      const body = withValueAt(metaFixture('text-message.json'), [...FIRST_MESSAGE, 'type'], type);
      expect(parseWebhookPayload(body).messages[0]).toMatchObject({ type, text: null });
    },
  );

  it('keeps the errors of an unsupported message in raw', () => {
    const [message] = parseWebhookPayload(metaFixture('unsupported-message.json')).messages;
    expect(message?.raw.errors).toEqual([
      expect.objectContaining({ code: 131051, title: 'Message type unknown' }),
    ]);
    expect(message?.raw.unsupported).toEqual({ type: 'poll_creation' });
  });

  it('keeps the new number of a customer who changed it in raw', () => {
    const [message] = parseWebhookPayload(metaFixture('system-message.json')).messages;
    expect(message?.raw.system).toMatchObject({ type: 'user_changed_number', wa_id: '12195555358' });
  });

  it('reads every message of several entries and numbers, in the order Meta sent them', () => {
    const parsed = parseWebhookPayload(metaFixture('multi-entry-two-numbers.json'));
    // The second message is older than the first: the parser does not sort.
    expect(
      parsed.messages.map((m) => [
        m.phoneNumberId,
        m.displayPhoneNumber,
        m.customerWaId,
        m.customerName,
        m.text,
      ]),
    ).toEqual([
      ['106540352242922', '15550783881', '16505551234', 'Sheena Nelson', 'My parcel is late'],
      ['106540352242922', '15550783881', '393471234567', 'Giulia Bianchi', 'Avete il modello blu?'],
      ['109876543210987', '15550001111', '5215512345678', 'Luis García', null],
      ['109876543210987', '15550001111', '5215512345678', 'Luis García', 'Llegó así'],
    ]);
    expect(parsed.messages.map((m) => m.sentAt)).toEqual([
      1749416700000, 1749416698000, 1749416702000, 1749416703000,
    ]);
    expect(parsed.statuses).toEqual([
      expect.objectContaining({
        phoneNumberId: '109876543210987',
        status: 'delivered',
        recipientWaId: '5215512345678',
      }),
    ]);
    expect(parsed.ignoredChanges).toBe(0);
  });

  it('acknowledges changes of other webhook fields without reading them', () => {
    expect(parseWebhookPayload(metaFixture('template-status-update.json'))).toEqual({
      messages: [],
      statuses: [],
      ignoredChanges: 1,
    });
    const odd = withValueAt(metaFixture('text-message.json'), ['entry', 0, 'changes', 1], {
      field: 'account_update',
      value: 'any shape at all',
    });
    expect(parseWebhookPayload(odd)).toMatchObject({ messages: [{ type: 'text' }], ignoredChanges: 1 });
  });

  it('reads a payload with no entries as empty', () => {
    expect(parseWebhookPayload({ object: 'whatsapp_business_account', entry: [] })).toEqual({
      messages: [],
      statuses: [],
      ignoredChanges: 0,
    });
  });

  it('accepts fields Meta may add at any level, and keeps them in raw', () => {
    for (const file of META_FIXTURE_NAMES) {
      const body = metaFixture(file);
      let extended = body;
      for (const path of pathsOf(body)) {
        const value = valueAt(body, path);
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          extended = withValueAt(extended, [...path, 'added_by_meta_later'], { nested: [1, 'two'] });
        }
      }
      const parsed = parseWebhookPayload(extended);
      expect(withoutPassThrough(parsed), file).toEqual(withoutPassThrough(parseWebhookPayload(body)));
      for (const message of parsed.messages)
        expect(message.raw.added_by_meta_later).toEqual({ nested: [1, 'two'] });
    }
  });

  it('has an expectation for every fixture', () => {
    const covered = [
      ...MESSAGE_CASES.map(([file]) => file),
      ...STATUS_CASES.map(([file]) => file),
      'multi-entry-two-numbers.json',
      'template-status-update.json',
    ];
    expect([...covered].sort()).toEqual([...META_FIXTURE_NAMES].sort());
  });
});

describe('customer name', () => {
  const textBody = metaFixture('text-message.json');
  const contactWaId = ['entry', 0, 'changes', 0, 'value', 'contacts', 0, 'wa_id'];

  it('is the contact whose wa_id is the sender', () => {
    const body = withValueAt(textBody, ['entry', 0, 'changes', 0, 'value', 'contacts', 1], {
      profile: { name: 'Someone Else' },
      wa_id: '447700900123',
    });
    expect(parseWebhookPayload(body).messages[0]?.customerName).toBe('Sheena Nelson');
  });

  it('is the only contact of a single sender whose wa_id differs from the phone number', () => {
    // Meta warns that a user's wa_id and phone number may differ (Brazil's ninth digit, for one).
    const body = withValueAt(
      withValueAt(textBody, [...FIRST_MESSAGE, 'from'], '5511987654321'),
      contactWaId,
      '551187654321',
    );
    expect(parseWebhookPayload(body).messages[0]).toMatchObject({
      customerWaId: '5511987654321',
      customerName: 'Sheena Nelson',
    });
  });

  it('is not guessed when two senders share one contact', () => {
    const second = {
      ...(valueAt(textBody, FIRST_MESSAGE) as object),
      from: '447700900123',
      id: 'wamid.second',
    };
    const body = withValueAt(textBody, ['entry', 0, 'changes', 0, 'value', 'messages', 1], second);
    expect(parseWebhookPayload(body).messages.map((m) => m.customerName)).toEqual(['Sheena Nelson', null]);
  });

  it('is null without contacts', () => {
    const body = withValueAt(textBody, ['entry', 0, 'changes', 0, 'value', 'contacts'], REMOVE);
    expect(parseWebhookPayload(body).messages[0]?.customerName).toBeNull();
  });
});

function payloadError(body: unknown, options?: { strictContent: boolean }): WebhookPayloadError {
  try {
    parseWebhookPayload(body, options);
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookPayloadError);
    return error as WebhookPayloadError;
  }
  throw new Error('expected a WebhookPayloadError');
}

describe('parseWebhookPayload on bodies that are not WhatsApp payloads', () => {
  it.each<[string, unknown, string]>([
    ['null', null, '(payload): expected object, got null'],
    ['an array', [], '(payload): expected object, got array'],
    ['a number', 42, '(payload): expected object, got number'],
    [
      'the JSON text instead of its value',
      '{"object":"whatsapp_business_account"}',
      '(payload): expected object, got string',
    ],
    ['an empty object', {}, 'object: required, expected "whatsapp_business_account"; entry: required'],
  ])('rejects %s', (_, body, problems) => {
    expect(payloadError(body).message).toBe(`Not a WhatsApp Business Account webhook payload: ${problems}`);
  });

  const M = FIRST_MESSAGE;
  it.each<[file: string, path: JsonPath, replacement: unknown, problem: string]>([
    ['text-message.json', ['object'], 'page', 'object: expected "whatsapp_business_account", got "page"'],
    ['text-message.json', ['object'], REMOVE, 'object: required, expected "whatsapp_business_account"'],
    ['text-message.json', ['entry'], {}, 'entry: expected array, got object'],
    ['text-message.json', ['entry', 0, 'changes'], REMOVE, 'entry[0].changes: required'],
    [
      'text-message.json',
      ['entry', 0, 'changes', 0, 'field'],
      7,
      'entry[0].changes[0].field: expected string, got number',
    ],
    [
      'text-message.json',
      ['entry', 0, 'changes', 0, 'value'],
      'hi',
      'entry[0].changes[0].value: expected object, got string',
    ],
    [
      'multi-entry-two-numbers.json',
      ['entry', 1, 'changes', 1, 'value', 'metadata', 'phone_number_id'],
      REMOVE,
      'entry[1].changes[1].value.metadata.phone_number_id: required',
    ],
    [
      'text-message.json',
      ['entry', 0, 'changes', 0, 'value', 'contacts', 0, 'profile'],
      'Sheena',
      'entry[0].changes[0].value.contacts[0].profile: expected object, got string',
    ],
    ['text-message.json', [...M, 'id'], REMOVE, 'entry[0].changes[0].value.messages[0].id: required'],
    ['text-message.json', [...M, 'from'], 16505551234, 'messages[0].from: expected string, got number'],
    [
      'text-message.json',
      [...M, 'timestamp'],
      1749416383,
      'messages[0].timestamp: expected string, got number',
    ],
    [
      'text-message.json',
      [...M, 'timestamp'],
      '2025-06-08T21:00:00Z',
      'messages[0].timestamp: expected unix seconds as a string of digits',
    ],
    ['text-message.json', [...M, 'context'], 'reply', 'messages[0].context: expected object, got string'],
    ['referral-message.json', [...M, 'referral'], 'ad', 'messages[0].referral: expected object, got string'],
    ['status-sent.json', [...FIRST_STATUS, 'recipient_id'], REMOVE, 'statuses[0].recipient_id: required'],
    [
      'status-failed.json',
      [...FIRST_STATUS, 'errors', 0, 'code'],
      '131047',
      'entry[0].changes[0].value.statuses[0].errors[0].code: expected number, got string',
    ],
    // Stored in an integer column: the database would refuse these after the request's messages were written.
    ...[1.5, 1e308, 3_000_000_000, -(2 ** 31) - 1].map((code): [string, JsonPath, unknown, string] => [
      'status-failed.json',
      [...FIRST_STATUS, 'errors', 0, 'code'],
      code,
      'statuses[0].errors[0].code: expected a whole error code that fits in 32 bits',
    ]),
  ])('%s with %j set to %j: %s', (file, path, replacement, problem) => {
    const error = payloadError(withValueAt(metaFixture(file), path, replacement));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(
      new RegExp(`(^|\\.)${problem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    );
    expect(error.name).toBe('WebhookPayloadError');
  });

  it('names every problem, and shows only the first ten', () => {
    const change = { field: 'messages', value: { metadata: {} } };
    const error = payloadError({
      object: 'whatsapp_business_account',
      entry: [{ changes: Array.from({ length: 25 }, () => change) }],
    });
    expect(error.problems).toHaveLength(25);
    expect(error.problems[24]).toBe('entry[0].changes[24].value.metadata.phone_number_id: required');
    expect(error.message).toMatch(/changes\[9\]\.value\.metadata\.phone_number_id: required; and 15 more$/);
  });

  it('quotes odd keys so the path can be followed', () => {
    const error = payloadError({ object: 'whatsapp_business_account', entry: { 'not an array': true } });
    expect(error.problems).toEqual(['entry: expected array, got object']);
    const nested = payloadError(
      withValueAt(metaFixture('text-message.json'), ['entry', 0, 'changes', 0, 'value', 'metadata'], null),
    );
    expect(nested.problems).toEqual(['entry[0].changes[0].value.metadata: expected object, got null']);
  });
});

describe('parseWebhookPayload on a known type whose part has another shape', () => {
  const M = FIRST_MESSAGE;
  const cases: [file: string, path: JsonPath, replacement: unknown, field: string, problem: string][] = [
    ['text-message.json', [...M, 'text'], REMOVE, 'text', 'required'],
    ['text-message.json', [...M, 'text', 'body'], null, 'text.body', 'expected string, got null'],
    [
      'interactive-button-reply.json',
      [...M, 'interactive', 'button_reply'],
      REMOVE,
      'interactive.button_reply',
      'required',
    ],
    [
      'interactive-list-reply.json',
      [...M, 'interactive', 'list_reply', 'id'],
      3,
      'interactive.list_reply.id',
      'expected string, got number',
    ],
    [
      'location-message.json',
      [...M, 'location', 'latitude'],
      '37.44',
      'location.latitude',
      'expected number, got string',
    ],
    ['contacts-message.json', [...M, 'contacts'], {}, 'contacts', 'expected array, got object'],
    ['image-message.json', [...M, 'image', 'id'], REMOVE, 'image.id', 'required'],
    ['button-message.json', [...M, 'button', 'text'], REMOVE, 'button.text', 'required'],
    ['reaction-message.json', [...M, 'reaction', 'message_id'], REMOVE, 'reaction.message_id', 'required'],
    [
      'order-message.json',
      [...M, 'order', 'product_items', 0, 'quantity'],
      '2',
      'order.product_items[0].quantity',
      'expected number, got string',
    ],
  ];

  it.each(cases)(
    '%s with %j set to %j keeps the message, raw, without text: %s %s',
    (file, path, replacement, field, problem) => {
      const body = withValueAt(metaFixture(file), path, replacement);
      const [message] = parseWebhookPayload(body).messages;
      const raw = valueAt(body, M) as { type: string };
      expect(message).toMatchObject({
        type: raw.type,
        text: null,
        interactiveReplyId: null,
        mediaId: null,
        contentProblems: [{ field, problem }],
        raw,
      });
    },
  );

  it.each(cases)(
    '%s with %j set to %j is refused when content is strict (simulator, scenario files): %s %s',
    (file, path, replacement, field, problem) => {
      const body = withValueAt(metaFixture(file), path, replacement);
      const error = payloadError(body, { strictContent: true });
      expect(error.problems).toEqual([`entry[0].changes[0].value.messages[0].${field}: ${problem}`]);
    },
  );

  it('refuses none of the other messages of the webhook with it', () => {
    const good = valueAt(metaFixture('text-message.json'), M) as Record<string, unknown>;
    const odd = { ...good, id: 'wamid.odd', text: { body: 42 } };
    const body = withValueAt(
      metaFixture('text-message.json'),
      ['entry', 0, 'changes', 0, 'value', 'messages'],
      [odd, good],
    );
    expect(
      parseWebhookPayload(body).messages.map(({ wamid, text, contentProblems }) => ({
        wamid,
        text,
        contentProblems,
      })),
    ).toEqual([
      {
        wamid: 'wamid.odd',
        text: null,
        contentProblems: [{ field: 'text.body', problem: 'expected string, got number' }],
      },
      { wamid: good.id, text: 'Hi! What are your opening hours?', contentProblems: [] },
    ]);
  });

  it('still refuses a message without the fields every message has', () => {
    const body = withValueAt(metaFixture('text-message.json'), [...M, 'type'], REMOVE);
    expect(payloadError(body).problems).toEqual(['entry[0].changes[0].value.messages[0].type: required']);
  });
});

describe('parseWebhookPayload on arbitrary input', () => {
  const onlyPayloadErrors = (body: unknown): boolean => {
    try {
      parseWebhookPayload(body);
      return true;
    } catch (error) {
      return error instanceof WebhookPayloadError && error.problems.length > 0;
    }
  };

  it('throws nothing but WebhookPayloadError for any value', () => {
    fc.assert(fc.property(fc.anything(), onlyPayloadErrors), { numRuns: 500 });
  });

  it('throws nothing but WebhookPayloadError for envelopes with arbitrary insides', () => {
    const envelope = fc.record({
      object: fc.constant('whatsapp_business_account'),
      entry: fc.array(
        fc.record({
          changes: fc.array(fc.record({ field: fc.constant('messages'), value: fc.jsonValue() })),
        }),
      ),
    });
    fc.assert(fc.property(envelope, onlyPayloadErrors), { numRuns: 300 });
  });

  it('throws nothing but WebhookPayloadError for fixtures with one field replaced or removed', () => {
    const mutation = fc.constantFrom(...META_FIXTURE_NAMES).chain((file) => {
      const body = metaFixture(file);
      return fc.record({
        body: fc.constant(body),
        path: fc.constantFrom(...pathsOf(body)),
        replacement: fc.oneof(
          fc.constant(REMOVE),
          fc.jsonValue(),
          fc.string(),
          fc.constantFrom('constructor', '__proto__'),
        ),
      });
    });
    fc.assert(
      fc.property(mutation, ({ body, path, replacement }) => {
        const mutated =
          path.length === 0 && replacement === REMOVE ? undefined : withValueAt(body, path, replacement);
        return onlyPayloadErrors(mutated);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('status order', () => {
  it('ranks sent < delivered < failed < read, and anything else below them', () => {
    expect(['sent', 'delivered', 'failed', 'read'].map(statusRank)).toEqual([1, 2, 3, 4]);
    expect(statusRank('deleted')).toBe(0);
    expect(statusRank('constructor')).toBe(0);
  });

  it.each<[current: string | null, next: string, advance: boolean]>([
    [null, 'sent', true],
    [null, 'warning', true],
    ['sent', 'delivered', true],
    ['delivered', 'read', true],
    ['sent', 'read', true],
    ['read', 'delivered', false],
    ['delivered', 'sent', false],
    ['read', 'read', false],
    ['sent', 'failed', true],
    ['delivered', 'failed', true],
    ['failed', 'delivered', false],
    ['failed', 'sent', false],
    ['failed', 'read', true],
    ['read', 'failed', false],
    ['sent', 'warning', false],
    ['warning', 'sent', true],
  ])('%s then %s: advance %s', (current, next, advance) => {
    expect(isStatusAdvance(current, next)).toBe(advance);
  });

  it('ends on the highest status whatever order the webhooks arrive in', () => {
    const known = ['sent', 'delivered', 'failed', 'read'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...known, 'warning'), { minLength: 1 }), (arrivals) => {
        const final = arrivals.reduce<string | null>(
          (current, next) => (isStatusAdvance(current, next) ? next : current),
          null,
        );
        const highest = Math.max(...arrivals.map(statusRank));
        return final !== null && statusRank(final) === highest;
      }),
    );
  });
});
