import { type Kysely, sql } from 'kysely';

// Written once, never edited: later changes are new migrations. The schema is spelled out here rather
// than derived from schema.ts because this file must keep describing the database as it was in 0001.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  // Meta's phone_number_id is global: a number routes to exactly one workspace.
  await db.schema
    .createTable('phone_numbers')
    .addColumn('phone_number_id', 'text', (col) => col.primaryKey())
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id'))
    .addColumn('mode', 'text', (col) => col.notNull().check(sql`mode in ('sandbox', 'production')`))
    .addColumn('display_phone_number', 'text')
    .execute();

  // No foreign key to phone_numbers: a number removed from the config keeps its history.
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id'))
    .addColumn('session_key', 'text', (col) => col.notNull())
    .addColumn('partition', 'integer', (col) => col.notNull().check(sql`partition >= 0`))
    .addColumn('phone_number_id', 'text', (col) => col.notNull())
    .addColumn('customer_wa_id', 'text', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('snapshot', 'jsonb', (col) => col.notNull())
    .addColumn('machine_version', 'integer', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull().check(sql`version >= 1`))
    .addColumn('next_deadline_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addColumn('closed_at', 'timestamptz')
    .execute();

  // One open session per conversation: the second concurrent creator conflicts here.
  await db.schema
    .createIndex('sessions_open_key')
    .on('sessions')
    .columns(['workspace_id', 'session_key'])
    .unique()
    .where(sql<boolean>`closed_at is null`)
    .execute();

  // The timer sweeper: open sessions of the owned partitions by deadline.
  await db.schema
    .createIndex('sessions_due')
    .on('sessions')
    .columns(['partition', 'next_deadline_at'])
    .where(sql<boolean>`closed_at is null and next_deadline_at is not null`)
    .execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'bigint', (col) => col.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id'))
    .addColumn('session_key', 'text', (col) => col.notNull())
    .addColumn('partition', 'integer', (col) => col.notNull())
    .addColumn('session_id', 'text', (col) => col.references('sessions.id'))
    .addColumn('direction', 'text', (col) => col.notNull().check(sql`direction in ('in', 'out')`))
    .addColumn('author', 'text', (col) => col.check(sql`author in ('ai', 'agent', 'system')`))
    .addColumn('wamid', 'text')
    .addColumn('phone_number_id', 'text', (col) => col.notNull())
    .addColumn('customer_wa_id', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('body', 'text')
    .addColumn('customer_name', 'text')
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('sent_at', 'timestamptz', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().check(sql`status in ('received', 'pending', 'sent', 'delivered', 'read', 'failed')`),
    )
    .addColumn('error_code', 'integer')
    .addColumn('error_title', 'text')
    .addColumn('applied_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // Dedupe of Meta's redeliveries. NULL wamids (outbound rows not sent yet) are distinct.
    .addUniqueConstraint('messages_workspace_wamid', ['workspace_id', 'wamid'])
    // An inbound row is only useful with its wamid; an outbound row always says who wrote it.
    .addCheckConstraint('messages_inbound_has_wamid', sql`direction = 'out' or wamid is not null`)
    .addCheckConstraint('messages_author_iff_outbound', sql`(direction = 'out') = (author is not null)`)
    .execute();

  // The actor's mailbox: a conversation's unapplied inbound rows in Meta timestamp order, then arrival.
  await db.schema
    .createIndex('messages_pending_inbound')
    .on('messages')
    .columns(['workspace_id', 'session_key', 'sent_at', 'id'])
    .where(sql<boolean>`applied_at is null and direction = 'in'`)
    .execute();

  // The stalled-inbound sweeper: unapplied rows of the owned partitions by arrival.
  await db.schema
    .createIndex('messages_stalled_inbound')
    .on('messages')
    .columns(['partition', 'created_at'])
    .where(sql<boolean>`applied_at is null and direction = 'in'`)
    .execute();

  // A session's conversation as the inbox shows it; also backs the foreign key to sessions.
  await db.schema.createIndex('messages_session').on('messages').columns(['session_id', 'sent_at']).execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigint', (col) => col.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id'))
    .addColumn('session_id', 'text', (col) => col.notNull().references('sessions.id'))
    .addColumn('message_id', 'bigint', (col) => col.notNull().unique().references('messages.id'))
    .addColumn('phone_number_id', 'text', (col) => col.notNull())
    .addColumn('customer_wa_id', 'text', (col) => col.notNull())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pending', 'sent', 'failed')`))
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .execute();

  await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'next_attempt_at']).execute();

  // Human agents from the config: the token itself is never stored, only its SHA-256.
  await db.schema
    .createTable('human_agents')
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id'))
    .addColumn('agent_id', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('team_ids', 'jsonb', (col) => col.notNull())
    .addColumn('active', 'boolean', (col) => col.notNull().defaultTo(true))
    .addPrimaryKeyConstraint('human_agents_pk', ['workspace_id', 'agent_id'])
    .execute();

  // Every committed session change, in commit order per workspace: what a live inbox resumes from
  // (SSE Last-Event-ID) after a reconnect. Written in the session's own transaction.
  await db.schema
    .createTable('session_events')
    .addColumn('id', 'bigint', (col) => col.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('workspace_id', 'text', (col) => col.notNull().references('workspaces.id'))
    .addColumn('session_id', 'text', (col) => col.notNull().references('sessions.id'))
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('session_events_workspace')
    .on('session_events')
    .columns(['workspace_id', 'id'])
    .execute();
}
