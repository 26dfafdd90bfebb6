import { type Kysely, sql } from 'kysely';

// Written once, never edited: later changes are new migrations.
export async function up(db: Kysely<unknown>): Promise<void> {
  // What an inbound message says beyond its text, read by the parser and until now kept only inside `payload`:
  // the message it replies to (and whether it was forwarded), the click-to-WhatsApp ad it came from, the id of
  // the reply button or list row tapped, and the media it carries.
  await db.schema
    .alterTable('messages')
    .addColumn('context', 'jsonb')
    .addColumn('referral', 'jsonb')
    .addColumn('interactive_reply_id', 'text')
    .addColumn('media_id', 'text')
    .execute();

  // Statuses about a wamid no message of the workspace has yet: Meta can report on a message before the sender
  // has committed the wamid it got back. Kept (the highest one per message) until the sender stores the wamid,
  // then applied; pruned a day after they arrived (statuses about messages another system sent never match).
  await db.schema
    .createTable('unmatched_statuses')
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id'))
    .addColumn('wamid', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('sent', 'delivered', 'read', 'failed')`),
    )
    .addColumn('error_code', 'integer')
    .addColumn('error_title', 'text')
    .addColumn('received_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('unmatched_statuses_pkey', ['workspace_id', 'wamid'])
    .execute();
  await db.schema
    .createIndex('unmatched_statuses_received')
    .on('unmatched_statuses')
    .column('received_at')
    .execute();

  // A failed outbound message whose session has not recorded the failure in its history yet. Written in the
  // transaction that fails the message, deleted once the session has it (or has closed): the gateway's 200
  // for a `failed` status does not wait for the session, and an unreachable session is told later.
  await db.schema
    .createTable('failure_notices')
    .addColumn('message_id', 'bigint', (col) => col.primaryKey().references('messages.id'))
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id'))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('failure_notices_due')
    .on('failure_notices')
    .column('next_attempt_at')
    .execute();
}
