import { type Kysely, type Selectable, sql } from 'kysely';
import { Batcher } from './batcher.ts';
import type { Database, MessagesTable } from './schema.ts';
import { createBatchedSessionReads } from './session-read-batch.ts';
import { toJson, toStoredSession } from './session-rows.ts';
import type {
  InboundMessage,
  InboundStore,
  NewInboundMessage,
  SessionAddress,
  SessionStore,
  SessionWrite,
  WrittenSession,
} from './session-store.ts';
import { writeSessions } from './session-write-batch.ts';

/** The session and inbound stores over kysely: the same code runs on Postgres and PGlite. */
export function createSessionStore(db: Kysely<Database>): SessionStore & InboundStore {
  // Concurrent transitions of different sessions share one transaction: a few statements and one commit for
  // the batch instead of six statements and a commit each, which is what the 200s and the replies wait on.
  const writes = new Batcher<SessionWrite, WrittenSession>({
    maxBatchSize: 250,
    run: async (batch) => {
      try {
        return await db.transaction().execute((trx) => writeSessions(trx, batch));
      } catch (error) {
        if (batch.length === 1) return [{ ok: false, error }];
        // A write the database refuses must not fail the ones it was batched with: each goes alone.
        return Promise.all(
          batch.map((write) =>
            db
              .transaction()
              .execute((trx) => writeSessions(trx, [write]))
              .then(
                ([outcome]) => outcome!,
                (alone: unknown) => ({ ok: false as const, error: alone }),
              ),
          ),
        );
      }
    },
  });
  const reads = createBatchedSessionReads(db);
  return {
    async loadOpenSession(workspaceId, sessionKey) {
      const row = await reads.loadOpenSession(workspaceId, sessionKey);
      return row && toStoredSession(row);
    },

    async listPendingInbound(workspaceId, sessionKey, limit) {
      if (limit === undefined)
        return (await reads.listPendingInbound(workspaceId, sessionKey)).map(toInboundMessage);
      const rows = await db
        .selectFrom('messages')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('session_key', '=', sessionKey)
        .where('direction', '=', sql.lit('in'))
        .where('applied_at', 'is', null)
        // Identity ids grow in insertion order, so `id` is the arrival order.
        .orderBy('sent_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toInboundMessage);
    },

    writeSession: (write) => writes.submit(write),

    async listDueSessions(partitions, now, limit) {
      if (partitions.length === 0) return [];
      const rows = await db
        .selectFrom('sessions')
        .select(['workspace_id', 'session_key', 'partition'])
        .where('partition', 'in', partitions)
        .where('closed_at', 'is', null)
        .where('next_deadline_at', '<=', new Date(now))
        .orderBy('next_deadline_at')
        .limit(limit)
        .execute();
      return rows.map(toAddress);
    },

    async listSessionsInStates(partitions, states, limit) {
      if (partitions.length === 0 || states.length === 0) return [];
      const rows = await db
        .selectFrom('sessions')
        .select(['workspace_id', 'session_key', 'partition'])
        .where('partition', 'in', partitions)
        .where('state', 'in', states)
        .where('closed_at', 'is', null)
        .orderBy('updated_at')
        .limit(limit)
        .execute();
      return rows.map(toAddress);
    },

    async listStalledInbound(partitions, receivedBefore, limit) {
      if (partitions.length === 0) return [];
      const rows = await db
        .selectFrom('messages')
        .select(['workspace_id', 'session_key', 'partition'])
        .where('partition', 'in', partitions)
        .where('direction', '=', sql.lit('in'))
        .where('applied_at', 'is', null)
        .where('created_at', '<', new Date(receivedBefore))
        .groupBy(['workspace_id', 'session_key', 'partition'])
        // The longest-waiting conversations first, so a small limit cannot starve them.
        .orderBy((eb) => eb.fn.min('created_at'))
        .limit(limit)
        .execute();
      return rows.map(toAddress);
    },

    async recordInbound(messages) {
      if (messages.length === 0) return { inserted: [], duplicates: 0 };
      // One statement, so one transaction; DO NOTHING also skips a wamid repeated inside the batch.
      const rows = await db
        .insertInto('messages')
        .values(messages.map(toInboundRow))
        .onConflict((conflict) => conflict.columns(['workspace_id', 'wamid']).doNothing())
        .returning(['workspace_id', 'wamid'])
        .execute();
      const insertedKeys = new Set(rows.map((row) => inboundKey(row.workspace_id, row.wamid!)));
      const inserted = messages.filter((message) =>
        insertedKeys.delete(inboundKey(message.workspaceId, message.wamid)),
      );
      return { inserted, duplicates: messages.length - inserted.length };
    },
  };
}

function toInboundRow(message: NewInboundMessage) {
  return {
    workspace_id: message.workspaceId,
    session_key: message.sessionKey,
    partition: message.partition,
    direction: 'in' as const,
    wamid: message.wamid,
    phone_number_id: message.phoneNumberId,
    customer_wa_id: message.customerWaId,
    type: message.type,
    body: message.body,
    customer_name: message.customerName,
    payload: toJson(message.payload),
    sent_at: new Date(message.sentAt),
    status: 'received' as const,
    ...(message.receivedAt === undefined ? {} : { created_at: new Date(message.receivedAt) }),
    context: message.context ? toJson(message.context) : null,
    referral: message.referral ? toJson(message.referral) : null,
    interactive_reply_id: message.interactiveReplyId ?? null,
    media_id: message.mediaId ?? null,
  };
}

function toInboundMessage(row: Selectable<MessagesTable>): InboundMessage {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    sessionKey: row.session_key,
    phoneNumberId: row.phone_number_id,
    customerWaId: row.customer_wa_id,
    // Inbound rows always carry a wamid (a check constraint says so).
    wamid: row.wamid!,
    type: row.type,
    body: row.body,
    customerName: row.customer_name,
    payload: row.payload,
    sentAt: row.sent_at.getTime(),
    receivedAt: row.created_at.getTime(),
    context: row.context as InboundMessage['context'],
    referral: row.referral,
    interactiveReplyId: row.interactive_reply_id,
    mediaId: row.media_id,
  };
}

function toAddress(row: { workspace_id: string; session_key: string; partition: number }): SessionAddress {
  return { workspaceId: row.workspace_id, sessionKey: row.session_key, partition: row.partition };
}

function inboundKey(workspaceId: string, wamid: string): string {
  return `${workspaceId}\u0000${wamid}`;
}
