import { type Kysely, sql } from 'kysely';

// Written once, never edited: later changes are new migrations.
export async function up(db: Kysely<unknown>): Promise<void> {
  // `language` names a text search configuration (english, spanish, portuguese, simple, ... ship with both
  // Postgres and PGlite). Text, not regconfig: pg_upgrade refuses tables with reg* columns, whose OIDs it cannot
  // carry over. The insert casts it to regconfig, so an unknown name is refused there.
  await db.schema
    .createTable('knowledge_documents')
    // No foreign key to workspaces: documents may arrive through the API before the config's workspaces are
    // synced, and every query is scoped by workspace anyway.
    .addColumn('workspace_id', 'text', (col) => col.notNull())
    .addColumn('document_id', 'text', (col) => col.notNull())
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('language', 'text', (col) => col.notNull())
    .addColumn('content_hash', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('knowledge_documents_pkey', ['workspace_id', 'document_id'])
    .execute();

  // A chunk's id is `<document_id>#<position>`: readable in a session's history and in a model's citations,
  // unique within its workspace.
  await db.schema
    .createTable('knowledge_chunks')
    .addColumn('workspace_id', 'text', (col) => col.notNull())
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('document_id', 'text', (col) => col.notNull())
    .addColumn('position', 'integer', (col) => col.notNull().check(sql`position >= 0`))
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('heading', 'text')
    .addColumn('text', 'text', (col) => col.notNull())
    .addColumn('language', 'text', (col) => col.notNull())
    // Computed by the INSERT from title, heading and text (weighted A, B, D): no trigger to keep in step.
    .addColumn('tsv', sql`tsvector`, (col) => col.notNull())
    .addPrimaryKeyConstraint('knowledge_chunks_pkey', ['workspace_id', 'id'])
    .addUniqueConstraint('knowledge_chunks_document_position', ['workspace_id', 'document_id', 'position'])
    .addForeignKeyConstraint(
      'knowledge_chunks_document',
      ['workspace_id', 'document_id'],
      'knowledge_documents',
      ['workspace_id', 'document_id'],
      (constraint) => constraint.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createIndex('knowledge_chunks_tsv')
    .on('knowledge_chunks')
    .using('gin')
    .column('tsv')
    .execute();
}
