import { z } from 'zod';
import { readMessageContent } from './message-content.ts';
import { PARSE_OPTIONS, readAt } from './parse-at.ts';

/**
 * Meta's `messages` webhook, read into what the engine stores: inbound messages and delivery statuses.
 * Only the fields the engine reads are checked; every other field passes untouched, because Meta adds
 * fields without notice and rejecting them would make Meta retry a good payload for days.
 */
export interface ParsedWebhook {
  messages: ParsedInboundMessage[];
  statuses: ParsedStatus[];
  /** Changes of another webhook field (template status, account updates...): acknowledged, not read. */
  ignoredChanges: number;
}

interface MessageContext {
  /** The sender of the message replied to; absent on forwarded messages. */
  from: string | null;
  /** The wamid replied to, or the product message a product enquiry came from. */
  id: string | null;
  forwarded?: boolean;
  frequentlyForwarded?: boolean;
}

export interface ParsedInboundMessage {
  /** The business number the message was sent to: one webhook can span several numbers. */
  phoneNumberId: string;
  displayPhoneNumber: string | null;
  /** The message's `from`, present on every type, including system messages that have no contacts. */
  customerWaId: string;
  customerName: string | null;
  wamid: string;
  /** Meta's type as given, unknown future types included. */
  type: string;
  /** What the customer said, as a person would read it; null when the message has nothing textual. */
  text: string | null;
  /** ms since epoch. */
  sentAt: number;
  context: MessageContext | null;
  /** Click-to-WhatsApp ad attribution, as Meta sent it. */
  referral: Record<string, unknown> | null;
  /** The id of the tapped reply button or list row, or the payload of a template quick reply. */
  interactiveReplyId: string | null;
  mediaId: string | null;
  /**
   * Fields of a known type's part that were not of the shape Meta documents (`text.body` missing): the message
   * is kept, with nothing read from that part (text null). Empty for a message read whole.
   */
  contentProblems: { field: string; problem: string }[];
  /** The Meta message object as received, so a type this parser does not know is kept, not lost. */
  raw: Record<string, unknown>;
}

interface StatusError {
  code: number;
  title: string;
  message?: string;
  details?: string;
}

export interface ParsedStatus {
  phoneNumberId: string;
  /** The wamid of the business's own message this status is about. */
  wamid: string;
  status: 'sent' | 'delivered' | 'read' | 'failed' | (string & {});
  recipientWaId: string;
  /** ms since epoch. */
  at: number;
  errors: StatusError[];
  conversationId: string | null;
  pricingCategory: string | null;
}

const MAX_PROBLEMS_SHOWN = 10;

/** The body is not a WhatsApp Business Account webhook; `problems` name each wrong field by its path. */
export class WebhookPayloadError extends Error {
  override readonly name = 'WebhookPayloadError';

  constructor(readonly problems: readonly string[]) {
    // A hostile body can produce thousands of problems; the first few are enough to find the fault.
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN);
    const more = problems.length - shown.length;
    super(
      `Not a WhatsApp Business Account webhook payload: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
    );
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Renders a path as a reader finds the field in the JSON: entry[0].changes[1].value.metadata.phone_number_id. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(payload)';
  return path
    .map((key, i) => {
      if (typeof key === 'number') return `[${key}]`;
      const name = String(key);
      if (!IDENTIFIER.test(name)) return `[${JSON.stringify(name)}]`;
      return i === 0 ? name : `.${name}`;
    })
    .join('');
}

// Unix seconds as Meta sends them, a string; twelve digits keep the ms value a safe integer.
const UnixSeconds = z.string().regex(/^\d{1,12}$/, 'expected unix seconds as a string of digits');

const secondsToMs = (seconds: string): number => Number(seconds) * 1000;

/**
 * The longest id (wamid, wa_id, phone_number_id) taken. Meta's wamids are about 60 characters and its other ids
 * under 20; ids are indexed (the wamid dedupe is a unique index), and Postgres refuses an index entry of more
 * than about 2,700 bytes: without a cap, one validly signed message with a longer id would fail every
 * redelivery for a week. 256 leaves Meta room to grow its ids fourfold.
 */
export const MAX_ID_LENGTH = 256;

const Id = z.string().max(MAX_ID_LENGTH, `longer than ${MAX_ID_LENGTH} characters: not an id Meta sends`);

const Context = z.looseObject({
  from: Id.optional(),
  id: Id.optional(),
  forwarded: z.boolean().optional(),
  frequently_forwarded: z.boolean().optional(),
});

/**
 * A message: the fields every type has, and the part its type names. A part of another shape than its type's
 * is one customer's message, not the webhook's fault: Meta's webhook keeps it, raw and without text, rather
 * than refuse the other messages with it (a refused webhook is redelivered, and refused again, for days).
 * `strict` refuses it instead, for the simulator and scenario files, whose author can fix it.
 */
function inboundMessage(strict: boolean) {
  return z
    .looseObject({
      from: Id,
      id: Id,
      timestamp: UnixSeconds,
      type: z.string(),
      context: Context.optional(),
      referral: z.record(z.string(), z.unknown()).optional(),
    })
    .transform((message, ctx) => {
      const { content, problems } = readMessageContent(message);
      if (strict) {
        for (const problem of problems) {
          ctx.issues.push({ code: 'custom', message: problem.message, path: problem.path, input: message });
        }
      }
      return {
        message,
        content,
        problems: problems.map((problem) => ({ field: formatPath(problem.path), problem: problem.message })),
      };
    });
}

/**
 * Meta's error codes are five or six digits; they are stored in an integer column. A code beyond 32 bits (or not
 * whole) is refused here, before anything of the request is written: the database would refuse it after the
 * request's messages were committed, answering 400 for a request that was partly recorded.
 */
const ErrorCode = z
  .number()
  .refine(
    (code) => Number.isInteger(code) && code >= -(2 ** 31) && code < 2 ** 31,
    'expected a whole error code that fits in 32 bits',
  );

const Status = z.looseObject({
  id: Id,
  status: z.string(),
  timestamp: UnixSeconds,
  recipient_id: Id,
  errors: z
    .array(
      z.looseObject({
        code: ErrorCode,
        title: z.string(),
        message: z.string().optional(),
        error_data: z.looseObject({ details: z.string().optional() }).optional(),
      }),
    )
    .optional(),
  conversation: z.looseObject({ id: z.string().optional() }).optional(),
  pricing: z.looseObject({ category: z.string().optional() }).optional(),
});

const Contact = z.looseObject({
  wa_id: z.string().optional(),
  profile: z.looseObject({ name: z.string().optional() }).optional(),
});

function messagesValue(strict: boolean) {
  return z.looseObject({
    metadata: z.looseObject({ phone_number_id: Id, display_phone_number: z.string().optional() }),
    contacts: z.array(Contact).optional(),
    messages: z.array(inboundMessage(strict)).optional(),
    statuses: z.array(Status).optional(),
  });
}

type MessagesValue = z.output<ReturnType<typeof messagesValue>>;

function customerName(from: string, value: MessagesValue): string | null {
  const contacts = value.contacts ?? [];
  const named = contacts.find((contact) => contact.wa_id === from);
  if (named) return named.profile?.name ?? null;
  // Meta warns that wa_id and the phone number in `from` may differ. With one contact and one sender in
  // the change, the contact can only be that sender; with more, guessing could name the wrong person.
  const senders = new Set(value.messages?.map(({ message }) => message.from));
  return contacts.length === 1 && senders.size === 1 ? (contacts[0]?.profile?.name ?? null) : null;
}

function toContext(context: z.output<typeof Context>): MessageContext {
  return {
    from: context.from ?? null,
    id: context.id ?? null,
    ...(context.forwarded === undefined ? {} : { forwarded: context.forwarded }),
    ...(context.frequently_forwarded === undefined
      ? {}
      : { frequentlyForwarded: context.frequently_forwarded }),
  };
}

function toInboundMessages(value: MessagesValue): ParsedInboundMessage[] {
  return (value.messages ?? []).map(({ message, content, problems }) => ({
    phoneNumberId: value.metadata.phone_number_id,
    displayPhoneNumber: value.metadata.display_phone_number ?? null,
    customerWaId: message.from,
    customerName: customerName(message.from, value),
    wamid: message.id,
    type: message.type,
    text: content.text,
    sentAt: secondsToMs(message.timestamp),
    context: message.context ? toContext(message.context) : null,
    referral: message.referral ?? null,
    interactiveReplyId: content.interactiveReplyId,
    mediaId: content.mediaId,
    contentProblems: problems,
    raw: message,
  }));
}

function toStatuses(value: MessagesValue): ParsedStatus[] {
  return (value.statuses ?? []).map((status) => ({
    phoneNumberId: value.metadata.phone_number_id,
    wamid: status.id,
    status: status.status,
    recipientWaId: status.recipient_id,
    at: secondsToMs(status.timestamp),
    errors: (status.errors ?? []).map((error) => ({
      code: error.code,
      title: error.title,
      ...(error.message === undefined ? {} : { message: error.message }),
      ...(error.error_data?.details === undefined ? {} : { details: error.error_data.details }),
    })),
    conversationId: status.conversation?.id ?? null,
    pricingCategory: status.pricing?.category ?? null,
  }));
}

function envelope(strict: boolean) {
  const value = messagesValue(strict);
  // Other fields (message_template_status_update, account_update...) have other shapes: they are not checked.
  const change = z
    .looseObject({ field: z.string(), value: z.unknown() })
    .transform((change, ctx) =>
      change.field === 'messages' ? readAt(value, change.value, 'value', ctx) : null,
    );
  return z.looseObject({
    object: z.literal('whatsapp_business_account'),
    entry: z.array(z.looseObject({ changes: z.array(change) })),
  });
}

const ENVELOPE = envelope(false);
const STRICT_ENVELOPE = envelope(true);

/**
 * Reads a webhook body (already JSON-parsed, signature already verified). Messages and statuses keep the
 * order Meta sent them in: ordering by timestamp is the session's business. Throws WebhookPayloadError,
 * and nothing else, for any body that is not a WhatsApp Business Account payload; with `strictContent`, also
 * for a message whose part has another shape than its type's (which Meta's webhook keeps, see inboundMessage).
 */
export function parseWebhookPayload(body: unknown, options: { strictContent?: boolean } = {}): ParsedWebhook {
  const result = (options.strictContent ? STRICT_ENVELOPE : ENVELOPE).safeParse(body, PARSE_OPTIONS);
  if (!result.success) {
    throw new WebhookPayloadError(
      result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`),
    );
  }
  const changes = result.data.entry.flatMap((entry) => entry.changes);
  const read = changes.filter((change) => change !== null);
  return {
    messages: read.flatMap(toInboundMessages),
    statuses: read.flatMap(toStatuses),
    ignoredChanges: changes.length - read.length,
  };
}
