import type { CustomerMessage } from '../machines/session.ts';
import type { InboundMessage } from '../persistence/session-store.ts';

/** The machine's view of a stored inbound row: what the AI and a person need, not Meta's whole object. */
export function toCustomerMessage(message: InboundMessage): CustomerMessage {
  return { wamid: message.wamid, type: message.type, text: message.body, sentAt: message.sentAt };
}
