import { type Kysely, sql } from 'kysely';

// Written once, never edited: later changes are new migrations.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The sender claims only the oldest pending row of each conversation (outbox-store.ts): this answers
  // "is there an earlier pending row for this customer?" with one index probe per candidate.
  await db.schema
    .createIndex('outbox_pending_by_recipient')
    .on('outbox')
    .columns(['phone_number_id', 'customer_wa_id', 'id'])
    .where(sql<boolean>`status = 'pending'`)
    .execute();

  // The 24-hour customer service window: the customer's latest message to this number, over every session.
  await db.schema
    .createIndex('messages_customer_window')
    .on('messages')
    .columns(['workspace_id', 'session_key', 'sent_at'])
    .where(sql<boolean>`direction = 'in'`)
    .execute();

  // The sandbox outbox API: a workspace's outbound messages on its sandbox numbers, by id.
  await db.schema
    .createIndex('messages_outbound_by_number')
    .on('messages')
    .columns(['workspace_id', 'phone_number_id', 'id'])
    .where(sql<boolean>`direction = 'out'`)
    .execute();
}
