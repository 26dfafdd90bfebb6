import { z } from 'zod';
import type { CustomerMessage } from '../machines/session.ts';
import type { InboundMessage } from '../persistence/session-store.ts';
import { readMessageContent } from '../whatsapp/message-content.ts';

/** The reply id of a stored Meta message object, read by the webhook parser's own rules. */
const replyIdOf = z
  .looseObject({ type: z.string() })
  .transform((message) => readMessageContent(message).content.interactiveReplyId);
/** Only pressed buttons and list rows carry one: every other message skips the parse. */
const REPLY_TYPES = new Set(['interactive', 'button']);

/**
 * The machine's view of a stored inbound row: what the AI and a person need, not Meta's whole object.
 * A message that reached us more than `staleAgeMs` after it was sent is marked stale: a redelivery after
 * an outage, which the session records without answering it again (see the machine's guard).
 */
export function toCustomerMessage(message: InboundMessage, staleAgeMs: number): CustomerMessage {
  const stale = message.receivedAt - message.sentAt > staleAgeMs;
  const replyId = REPLY_TYPES.has(message.type) ? (replyIdOf.safeParse(message.payload).data ?? null) : null;
  return {
    wamid: message.wamid,
    type: message.type,
    text: message.body,
    sentAt: message.sentAt,
    ...(stale ? { stale: true } : {}),
    ...(replyId === null ? {} : { replyId }),
  };
}
