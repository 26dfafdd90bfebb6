/**
 * What a simulated customer sends (scenario files, `botrelic chat`, the sandbox page): a Meta message object
 * without the `from`, `id` and `timestamp` that the delivery adds. Its shape is Meta's, so a simulated
 * message takes the same parser and the same path into the store as a real one.
 */
export interface SimulatedMessage {
  type: string;
  [field: string]: unknown;
}

/** Meta's media types, each with a typical MIME type so the placeholder looks like what Meta sends. */
const MEDIA_MIME_TYPES: Readonly<Record<string, string>> = {
  image: 'image/jpeg',
  video: 'video/mp4',
  audio: 'audio/ogg; codecs=opus',
  document: 'application/pdf',
  sticker: 'image/webp',
};

let mediaCounter = 0;

export function textMessage(body: string): SimulatedMessage {
  return { type: 'text', text: { body } };
}

/** The customer tapped a reply button the business sent. */
export function buttonReply(id: string, title: string): SimulatedMessage {
  return { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id, title } } };
}

/**
 * A message of any Meta type, `{ <type>: <fields> }`. Media types get a placeholder media id and MIME type
 * unless given: the sandbox has no media to upload, only the fact that the customer sent some.
 */
export function messageOfType(type: string, fields: Record<string, unknown> = {}): SimulatedMessage {
  const mimeType = MEDIA_MIME_TYPES[type];
  if (mimeType === undefined) return { type, [type]: fields };
  return { type, [type]: { id: `sandbox-media-${++mediaCounter}`, mime_type: mimeType, ...fields } };
}

/** A Meta message as delivered: the simulated one with its sender, id and timestamp (ms, floored to seconds). */
export function deliveredMessage(
  message: SimulatedMessage,
  delivery: { from: string; wamid: string; sentAt: number },
): Record<string, unknown> {
  return {
    ...message,
    from: delivery.from,
    id: delivery.wamid,
    timestamp: String(Math.floor(delivery.sentAt / 1000)),
  };
}

/** The webhook body Meta would POST for these messages to one phone number. */
export function webhookOf(
  phoneNumberId: string,
  messages: readonly Record<string, unknown>[],
  contact?: { waId: string; name: string },
): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'sandbox',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { phone_number_id: phoneNumberId },
              ...(contact ? { contacts: [{ wa_id: contact.waId, profile: { name: contact.name } }] } : {}),
              messages,
            },
          },
        ],
      },
    ],
  };
}
