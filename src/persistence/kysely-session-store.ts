import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database, MessagesTable, SessionRow } from './schema.ts';
import {
  type InboundMessage,
  type InboundStore,
  type NewInboundMessage,
  type SessionAddress,
  type SessionStore,
  type SessionWrite,
  StaleSessionError,
  type StoredSession,
  type WrittenSession,
} from './session-store.ts';

/** The session and inbound stores over kysely: the same code runs on Postgres and PGlite. */
export function createSessionStore(db: Kysely<Database>): SessionStore & InboundStore {
  return {
    async loadOpenSession(workspaceId, sessionKey) {
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('session_key', '=', sessionKey)
        .where('closed_at', 'is', null)
        .executeTakeFirst();
      return row && toStoredSession(row);
    },

    async listPendingInbound(workspaceId, sessionKey, limit) {
      const rows = await db
        .selectFrom('messages')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('session_key', '=', sessionKey)
        .where('direction', '=', 'in')
        .where('applied_at', 'is', null)
        // Identity ids grow in insertion order, so `id` is the arrival order.
        .orderBy('sent_at')
        .orderBy('id')
        .$if(limit !== undefined, (query) => query.limit(limit!))
        .execute();
      return rows.map(toInboundMessage);
    },

    writeSession: (write) => db.transaction().execute((trx) => writeSessionIn(trx, write)),

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
        .where('direction', '=', 'in')
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

async function writeSessionIn(trx: Transaction<Database>, write: SessionWrite): Promise<WrittenSession> {
  const { session, expectedVersion, now } = write;
  const row = expectedVersion === null ? await insertSession(trx, write) : await updateSession(trx, write);
  if (!row) throw new StaleSessionError(session.id, expectedVersion);

  const inboundIds = [...new Set(write.appliedInboundIds)];
  if (inboundIds.length > 0) {
    const { numUpdatedRows } = await trx
      .updateTable('messages')
      .set({ applied_at: new Date(now), session_id: session.id })
      .where('workspace_id', '=', session.workspaceId)
      .where('session_key', '=', session.sessionKey)
      .where('direction', '=', 'in')
      .where('id', 'in', inboundIds)
      .where('applied_at', 'is', null)
      .executeTakeFirst();
    // Fewer rows means another writer applied some of them: this transition is built on a stale view.
    if (Number(numUpdatedRows) !== inboundIds.length) {
      throw new StaleSessionError(session.id, expectedVersion);
    }
  }

  if (write.outbound.length > 0) {
    // The outbox rows are copied from the message rows in the same statement, which pairs each outbox
    // row with its message without relying on the order RETURNING yields rows in.
    await trx
      .with('sent', (cte) =>
        cte
          .insertInto('messages')
          .values(
            write.outbound.map((intent) => ({
              workspace_id: session.workspaceId,
              session_key: session.sessionKey,
              partition: session.partition,
              session_id: session.id,
              direction: 'out' as const,
              author: intent.author,
              phone_number_id: session.phoneNumberId,
              customer_wa_id: session.customerWaId,
              type: intent.type,
              body: intent.body,
              payload: toJson(intent.payload),
              sent_at: new Date(now),
              status: 'pending' as const,
            })),
          )
          .returning(['id', 'workspace_id', 'session_id', 'phone_number_id', 'customer_wa_id', 'payload']),
      )
      .insertInto('outbox')
      .columns([
        'workspace_id',
        'session_id',
        'message_id',
        'phone_number_id',
        'customer_wa_id',
        'payload',
        'status',
        'next_attempt_at',
      ])
      .expression((eb) =>
        eb.selectFrom('sent').select([
          'sent.workspace_id',
          'sent.session_id',
          'sent.id',
          'sent.phone_number_id',
          'sent.customer_wa_id',
          'sent.payload',
          sql.lit('pending').as('status'),
          // Cast, or the untyped parameter would reach the insert as text.
          sql<Date>`cast(${new Date(now)} as timestamptz)`.as('next_attempt_at'),
        ]),
      )
      .execute();
  }

  let eventId: string | null = null;
  if (write.event !== undefined) {
    // Event ids are a live inbox's resume cursor (SSE Last-Event-ID). Taken under a per-workspace lock held
    // until commit, a workspace's ids become visible in increasing order: a reader that sees id N has every
    // earlier one, so resuming after N skips nothing. The insert is the transaction's last statement, so the
    // lock is held for the commit only.
    await sql`select pg_advisory_xact_lock(${sql.lit(EVENTS_LOCK)}, hashtext(${session.workspaceId}))`.execute(
      trx,
    );
    const event = await trx
      .insertInto('session_events')
      .values({ workspace_id: session.workspaceId, session_id: session.id, payload: toJson(write.event) })
      .returning('id')
      .executeTakeFirstOrThrow();
    eventId = event.id;
  }
  return { ...toStoredSession(row), eventId };
}

/** The first key of the advisory lock that orders a workspace's session events (the second is the workspace). */
const EVENTS_LOCK = 7_301;

/** Undefined when an open session already exists for the key (or the id is taken): another writer won. */
function insertSession(
  trx: Transaction<Database>,
  { session, now }: SessionWrite,
): Promise<SessionRow | undefined> {
  return trx
    .insertInto('sessions')
    .values({
      id: session.id,
      workspace_id: session.workspaceId,
      session_key: session.sessionKey,
      partition: session.partition,
      phone_number_id: session.phoneNumberId,
      customer_wa_id: session.customerWaId,
      state: session.state,
      snapshot: toJson(session.snapshot),
      machine_version: session.machineVersion,
      version: 1,
      next_deadline_at: toDate(session.nextDeadlineAt),
      created_at: new Date(session.createdAt ?? now),
      updated_at: new Date(now),
      closed_at: toDate(session.closedAt),
    })
    .onConflict((conflict) => conflict.doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Undefined when the version moved on (or the session is not this workspace's). */
function updateSession(
  trx: Transaction<Database>,
  { session, expectedVersion, now }: SessionWrite,
): Promise<SessionRow | undefined> {
  return trx
    .updateTable('sessions')
    .set((eb) => ({
      state: session.state,
      snapshot: toJson(session.snapshot),
      machine_version: session.machineVersion,
      version: eb('version', '+', 1),
      next_deadline_at: toDate(session.nextDeadlineAt),
      updated_at: new Date(now),
      closed_at: toDate(session.closedAt),
    }))
    .where('id', '=', session.id)
    .where('workspace_id', '=', session.workspaceId)
    .where('version', '=', expectedVersion!)
    .returningAll()
    .executeTakeFirst();
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
  };
}

function toStoredSession(row: SessionRow): StoredSession {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    sessionKey: row.session_key,
    partition: row.partition,
    phoneNumberId: row.phone_number_id,
    customerWaId: row.customer_wa_id,
    state: row.state,
    snapshot: row.snapshot,
    machineVersion: row.machine_version,
    version: row.version,
    nextDeadlineAt: row.next_deadline_at?.getTime() ?? null,
    createdAt: row.created_at.getTime(),
    closedAt: row.closed_at?.getTime() ?? null,
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
  };
}

function toAddress(row: { workspace_id: string; session_key: string; partition: number }): SessionAddress {
  return { workspaceId: row.workspace_id, sessionKey: row.session_key, partition: row.partition };
}

/**
 * jsonb goes in as JSON text: pg would turn a JS array into a Postgres array literal, and both drivers pass
 * a string through untouched, so stringifying here is the one encoding that means the same on both.
 */
function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function inboundKey(workspaceId: string, wamid: string): string {
  return `${workspaceId}\u0000${wamid}`;
}
