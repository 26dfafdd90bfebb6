import { signWebhookBody } from '../../src/whatsapp/webhook-signature.ts';
import { type JsonPath, metaFixture, metaFixtureBytes, withValueAt } from '../whatsapp/meta-fixtures.ts';
import { ACME_NUMBER } from './test-config.ts';

export const APP_SECRET = 'app-secret-of-the-test-meta-app';
export const VERIFY_TOKEN = 'verify-token-of-the-test-subscription';

/** What a gateway under test runs with: Meta's app secret and the subscription's verify token. */
export const WEBHOOK_ENV = { WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN };

export interface SignedWebhook {
  body: Buffer;
  headers: Record<string, string>;
}

/** A body as Meta sends it: JSON bytes with `X-Hub-Signature-256` computed over exactly those bytes. */
export function signed(body: Buffer | object, secret = APP_SECRET): SignedWebhook {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return {
    body: bytes,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(bytes, secret) },
  };
}

/** A fixture's own bytes, signed: `\u` escapes and all. */
export function signedFixture(name: string): SignedWebhook {
  return signed(metaFixtureBytes(name));
}

export function postWebhook(baseUrl: string, webhook: SignedWebhook): Promise<Response> {
  return fetch(`${baseUrl}/webhooks/whatsapp`, {
    method: 'POST',
    headers: webhook.headers,
    body: webhook.body,
  });
}

export interface TextMessage {
  from: string;
  wamid: string;
  text: string;
  /** Meta's timestamp, ms (sent as whole seconds). */
  sentAt: number;
}

const VALUE: JsonPath = ['entry', 0, 'changes', 0, 'value'];

/** text-message.json carrying these text messages, in this order, to one phone number. */
export function textMessagesWebhook(messages: readonly TextMessage[], phoneNumberId = ACME_NUMBER): object {
  let webhook = withValueAt(
    metaFixture('text-message.json'),
    [...VALUE, 'metadata', 'phone_number_id'],
    phoneNumberId,
  );
  const senders = [...new Set(messages.map((message) => message.from))];
  webhook = withValueAt(
    webhook,
    [...VALUE, 'contacts'],
    senders.map((waId) => ({ profile: { name: `Customer ${waId}` }, wa_id: waId })),
  );
  return withValueAt(
    webhook,
    [...VALUE, 'messages'],
    messages.map((message) => ({
      from: message.from,
      id: message.wamid,
      timestamp: String(Math.floor(message.sentAt / 1000)),
      type: 'text',
      text: { body: message.text },
    })),
  ) as object;
}

/** A status fixture about another message or with another status. */
export function statusWebhook(fixture: string, change: { wamid?: string; status?: string }): object {
  const status: JsonPath = [...VALUE, 'statuses', 0];
  let webhook = metaFixture(fixture);
  if (change.wamid !== undefined) webhook = withValueAt(webhook, [...status, 'id'], change.wamid);
  if (change.status !== undefined) webhook = withValueAt(webhook, [...status, 'status'], change.status);
  return webhook as object;
}
