import { z } from 'zod';
import { PARSE_OPTIONS, readAt } from './parse-at.ts';

/** What the engine reads out of a message's type-specific part. */
export interface MessageContent {
  /** What the customer said, as a person would read it; null when the part has nothing textual. */
  text: string | null;
  interactiveReplyId: string | null;
  mediaId: string | null;
}

const NO_CONTENT: MessageContent = { text: null, interactiveReplyId: null, mediaId: null };

const content = (found: Partial<MessageContent>): MessageContent => ({ ...NO_CONTENT, ...found });

type ContentSchema = z.ZodType<MessageContent>;

/**
 * Meta puts a message's payload under a key named after its type (`{ type: 'location', location: {...} }`),
 * and interactive replies do the same one level down. A type with no schema (request_welcome, unsupported,
 * any future type) carries nothing the engine reads; its fields stay in the message's raw object.
 */
function readByType(
  schemas: ReadonlyMap<string, ContentSchema>,
  part: { type: string; [key: string]: unknown },
  ctx: z.core.$RefinementCtx,
): MessageContent {
  const schema = schemas.get(part.type);
  return schema ? readAt(schema, part[part.type], part.type, ctx) : NO_CONTENT;
}

const Media = z
  .looseObject({ id: z.string(), caption: z.string().optional() })
  .transform((media) => content({ text: media.caption ?? null, mediaId: media.id }));

const Reply = z.looseObject({ id: z.string(), title: z.string() });

const INTERACTIVE_REPLIES = new Map<string, ContentSchema>([
  ['button_reply', Reply.transform((reply) => content({ text: reply.title, interactiveReplyId: reply.id }))],
  [
    'list_reply',
    // The row's description is part of what the customer chose: "Where is my order? — Track a recent delivery".
    Reply.extend({ description: z.string().optional() }).transform((reply) =>
      content({
        text: reply.description ? `${reply.title} — ${reply.description}` : reply.title,
        interactiveReplyId: reply.id,
      }),
    ),
  ],
  // A Flow's answers are in response_json, a JSON string for whoever handles that Flow; its body says "Sent".
  [
    'nfm_reply',
    z
      .looseObject({ body: z.string().optional() })
      .transform((reply) => content({ text: reply.body ?? null })),
  ],
]);

const OrderItem = z.looseObject({
  product_retailer_id: z.string(),
  quantity: z.number(),
  item_price: z.number().optional(),
  currency: z.string().optional(),
});

const Order = z.looseObject({ text: z.string().optional(), product_items: z.array(OrderItem) });

/** "3 items: 2 × di9ozbzfi4 at 7.99 USD, 1 × nlk2zpqdr7 at 12.5 USD", then the customer's note. */
function summarizeOrder(order: z.output<typeof Order>): string {
  const count = order.product_items.reduce((sum, item) => sum + item.quantity, 0);
  const lines = order.product_items.map((item) => {
    const price =
      item.item_price === undefined ? '' : ` at ${item.item_price} ${item.currency ?? ''}`.trimEnd();
    return `${item.quantity} × ${item.product_retailer_id}${price}`;
  });
  const summary = `${count} ${count === 1 ? 'item' : 'items'}: ${lines.join(', ')}`;
  return order.text ? `${summary}\n${order.text}` : summary;
}

const Location = z.looseObject({
  latitude: z.number(),
  longitude: z.number(),
  name: z.string().optional(),
  address: z.string().optional(),
});

const ContactCard = z.looseObject({
  name: z.looseObject({ formatted_name: z.string().optional() }).optional(),
});

const MESSAGE_CONTENT = new Map<string, ContentSchema>([
  ['text', z.looseObject({ body: z.string() }).transform((text) => content({ text: text.body }))],
  ['image', Media],
  ['video', Media],
  ['document', Media],
  ['audio', Media],
  ['sticker', Media],
  [
    'location',
    Location.transform((location) =>
      content({
        text:
          [location.name, location.address].filter(Boolean).join(', ') ||
          `${location.latitude},${location.longitude}`,
      }),
    ),
  ],
  [
    'contacts',
    z.array(ContactCard).transform((cards) =>
      content({
        text:
          cards
            .map((card) => card.name?.formatted_name)
            .filter(Boolean)
            .join(', ') || null,
      }),
    ),
  ],
  [
    'interactive',
    z
      .looseObject({ type: z.string() })
      .transform((interactive, ctx) => readByType(INTERACTIVE_REPLIES, interactive, ctx)),
  ],
  [
    'button',
    z
      .looseObject({ text: z.string(), payload: z.string().optional() })
      .transform((button) => content({ text: button.text, interactiveReplyId: button.payload ?? null })),
  ],
  [
    'reaction',
    // A removed reaction comes without an emoji.
    z
      .looseObject({ message_id: z.string(), emoji: z.string().optional() })
      .transform((reaction) => content({ text: reaction.emoji || null })),
  ],
  ['order', Order.transform((order) => content({ text: summarizeOrder(order) }))],
  [
    'system',
    // The customer's new number (`wa_id`) stays in raw: moving the customer is the session's decision.
    z
      .looseObject({ body: z.string().optional() })
      .transform((system) => content({ text: system.body ?? null })),
  ],
]);

/** A field of a message's part that did not have the shape Meta documents for its type, and how. */
interface ContentProblem {
  /** Where, from the message: `['text', 'body']`, `['order', 'product_items', 0, 'quantity']`. */
  path: PropertyKey[];
  /** `required`, `expected number, got string`. */
  message: string;
}

/**
 * Reads the part of `message` its `type` names. A part of another shape than its type's (Meta changed it, or a
 * bug on their side) comes back as carrying nothing, with the problems found: the caller decides whether that
 * refuses the message.
 */
export function readMessageContent(message: { type: string; [key: string]: unknown }): {
  content: MessageContent;
  problems: ContentProblem[];
} {
  const schema = MESSAGE_CONTENT.get(message.type);
  if (!schema) return { content: NO_CONTENT, problems: [] };
  const result = schema.safeParse(message[message.type], PARSE_OPTIONS);
  if (result.success) return { content: result.data, problems: [] };
  return {
    content: NO_CONTENT,
    problems: result.error.issues.map((issue) => ({
      path: [message.type, ...issue.path],
      message: issue.message,
    })),
  };
}
