import { randomBytes } from 'node:crypto';

/** Whom a webhook is about: the business number (and its WhatsApp Business Account) and the customer. */
export interface Conversation {
  businessAccountId: string;
  phoneNumberId: string;
  displayPhoneNumber: string;
  waId: string;
  name: string;
}

export interface OutgoingText {
  wamid: string;
  text: string;
}

let wamidCounter = 0;

/** A wamid shaped like Meta's (base64 after `wamid.`), unique for the run. */
export function newWamid(waId: string): string {
  const raw = `${waId}\u0015${(++wamidCounter).toString(36)}\u0012${randomBytes(8).toString('hex')}`;
  return `wamid.HBgL${Buffer.from(raw).toString('base64')}`;
}

/**
 * One `messages` webhook carrying these texts from one customer, in Meta's shape (test/fixtures/meta/
 * text-message.json) and Meta's encoding: non-ASCII escaped as \uXXXX, so signatures cover those bytes.
 */
export function textMessagesBody(to: Conversation, texts: readonly OutgoingText[], nowMs: number): Buffer {
  const timestamp = String(Math.floor(nowMs / 1000));
  return metaJson({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: to.businessAccountId,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: to.displayPhoneNumber, phone_number_id: to.phoneNumberId },
              contacts: [{ profile: { name: to.name }, wa_id: to.waId }],
              messages: texts.map(({ wamid, text }) => ({
                from: to.waId,
                id: wamid,
                timestamp,
                type: 'text',
                text: { body: text },
              })),
            },
            field: 'messages',
          },
        ],
      },
    ],
  });
}

/** A delivery status for a message the business sent (test/fixtures/meta/status-delivered.json). */
export function statusBody(
  to: Conversation,
  wamid: string,
  status: 'delivered' | 'read',
  nowMs: number,
): Buffer {
  return metaJson({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: to.businessAccountId,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: to.displayPhoneNumber, phone_number_id: to.phoneNumberId },
              statuses: [
                {
                  id: wamid,
                  status,
                  timestamp: String(Math.floor(nowMs / 1000)),
                  recipient_id: to.waId,
                  conversation: { id: conversationId(to), origin: { type: 'service' } },
                  pricing: { billable: true, pricing_model: 'PMP', category: 'service', type: 'regular' },
                },
              ],
            },
            field: 'messages',
          },
        ],
      },
    ],
  });
}

function conversationId(to: Conversation): string {
  return Buffer.from(`${to.phoneNumberId}:${to.waId}`).toString('hex').slice(0, 32).padEnd(32, '0');
}

/** JSON as Meta writes it: every non-ASCII character and every `/` escaped. */
function metaJson(value: unknown): Buffer {
  const json = JSON.stringify(value)
    .replaceAll('/', '\\/')
    .replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return Buffer.from(json);
}
