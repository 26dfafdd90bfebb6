import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { partitionOf, sessionKeyOf } from '../../src/actors/session-key.ts';
import { SESSION_MACHINE_VERSION, type TemplateMessage } from '../../src/machines/session.ts';
import { createSessionStore } from '../../src/persistence/kysely-session-store.ts';
import type { Database } from '../../src/persistence/schema.ts';
import type { OutboundIntent } from '../../src/persistence/session-store.ts';

export type SeededMessage = string | { template: TemplateMessage };

let wamids = 0;

/**
 * A conversation whose session has written outbound intents, through the session store's own write (message
 * rows plus outbox rows in one transaction), as the actor host does: the outbox exactly as the sender finds it.
 */
export async function seedConversation(
  db: Kysely<Database>,
  options: {
    workspaceId: string;
    phoneNumberId: string;
    waId: string;
    messages: readonly SeededMessage[];
    /** When the customer last wrote (Meta's timestamp); null: never. */
    customerWroteAt: number | null;
    now: number;
    /** Closes the session in the same write, so the customer's next conversation opens another. */
    closed?: boolean;
  },
): Promise<{ sessionId: string; sessionKey: string; partition: number; messageIds: string[] }> {
  const { workspaceId, phoneNumberId, waId, now } = options;
  const store = createSessionStore(db);
  const sessionKey = sessionKeyOf(phoneNumberId, waId);
  const partition = partitionOf(sessionKey);
  if (options.customerWroteAt !== null) {
    await store.recordInbound([
      {
        workspaceId,
        sessionKey,
        partition,
        phoneNumberId,
        customerWaId: waId,
        wamid: `wamid.seed${++wamids}`,
        type: 'text',
        body: 'hello',
        customerName: null,
        payload: {},
        sentAt: options.customerWroteAt,
        receivedAt: options.customerWroteAt,
      },
    ]);
  }
  const sessionId = randomUUID();
  await store.writeSession({
    session: {
      id: sessionId,
      workspaceId,
      sessionKey,
      partition,
      phoneNumberId,
      customerWaId: waId,
      state: 'active',
      snapshot: {},
      machineVersion: SESSION_MACHINE_VERSION,
      nextDeadlineAt: null,
      closedAt: options.closed ? now : null,
    },
    expectedVersion: null,
    appliedInboundIds: [],
    outbound: options.messages.map(toIntent),
    now,
  });
  const rows = await db
    .selectFrom('messages')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('session_id', '=', sessionId)
    .where('direction', '=', 'out')
    .orderBy('id')
    .execute();
  return { sessionId, sessionKey, partition, messageIds: rows.map((row) => row.id) };
}

function toIntent(message: SeededMessage): OutboundIntent {
  if (typeof message === 'string') {
    return { author: 'ai', type: 'text', body: message, payload: { type: 'text', text: { body: message } } };
  }
  const { name, language, components } = message.template;
  return {
    author: 'agent',
    type: 'template',
    body: `Template "${name}" (${language})`,
    payload: { type: 'template', template: { name, language: { code: language }, components } },
  };
}
