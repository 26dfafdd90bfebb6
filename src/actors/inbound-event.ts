import type { CustomerMessage } from '../machines/session.ts';
import type { InboundMessage } from '../persistence/session-store.ts';

/**
 * The machine's view of a stored inbound row: what the AI and a person need, not Meta's whole object.
 * A message that reached us more than `staleAgeMs` after it was sent is marked stale: a redelivery after
 * an outage, which the session records without answering it again (see the machine's guard).
 */
export function toCustomerMessage(message: InboundMessage, staleAgeMs: number): CustomerMessage {
  const stale = message.receivedAt - message.sentAt > staleAgeMs;
  return {
    wamid: message.wamid,
    type: message.type,
    text: message.body,
    sentAt: message.sentAt,
    ...(stale ? { stale: true } : {}),
  };
}
