import { sql, type Transaction } from 'kysely';
import type { Settled } from './batcher.ts';
import type { Database, SessionRow } from './schema.ts';
import { insertSessionEvents } from './session-event-rows.ts';
import { toDate, toJson, toStoredSession } from './session-rows.ts';
import { type SessionWrite, StaleSessionError, type WrittenSession } from './session-store.ts';

/**
 * Writes many sessions' transitions in one transaction, a handful of statements whatever their number: each
 * write still succeeds or goes stale on its own (the version it read, the inbound rows it consumed), and a
 * stale write leaves nothing behind while the others commit.
 */
export async function writeSessions(
  trx: Transaction<Database>,
  writes: readonly SessionWrite[],
): Promise<Settled<WrittenSession>[]> {
  const stale = laterWritesOfTheSameSession(writes);
  await claimInbound(
    trx,
    writes.filter((write) => !stale.has(write)),
    stale,
  );

  const rows = new Map<SessionWrite, WrittenRow>();
  await insertSessions(
    trx,
    writes.filter((write) => !stale.has(write) && write.expectedVersion === null),
    rows,
  );
  await updateSessions(
    trx,
    writes.filter((write) => !stale.has(write) && write.expectedVersion !== null),
    rows,
  );
  for (const write of writes) if (!rows.has(write)) stale.add(write);

  const written = writes.filter((write) => !stale.has(write));
  await markInboundApplied(trx, written);
  await insertOutbound(trx, written);
  const eventIds = await insertEvents(trx, written);

  return writes.map((write) => {
    const row = rows.get(write);
    if (!row || stale.has(write)) {
      return { ok: false, error: new StaleSessionError(write.session.id, write.expectedVersion) };
    }
    const stored = toStoredSession({ ...row, snapshot: write.session.snapshot });
    return { ok: true, value: { ...stored, eventId: eventIds.get(write) ?? null } };
  });
}

/**
 * What a write reads back: not the snapshot, which the writer already holds and would otherwise come back as
 * kilobytes of JSON to parse on every transition.
 */
const WRITTEN_COLUMNS = [
  'id',
  'workspace_id',
  'session_key',
  'partition',
  'phone_number_id',
  'customer_wa_id',
  'state',
  'machine_version',
  'version',
  'next_deadline_at',
  'created_at',
  'updated_at',
  'closed_at',
] as const satisfies readonly (keyof SessionRow)[];
type WrittenRow = Omit<SessionRow, 'snapshot'>;

/**
 * A host writes one transition of a session at a time, so a batch holds each session once; two writers of one
 * session in the same batch can only be two hosts racing, and the later one is stale (it retries from the
 * stored state). One statement must not touch a row twice.
 */
function laterWritesOfTheSameSession(writes: readonly SessionWrite[]): Set<SessionWrite> {
  const seen = new Set<string>();
  const later = new Set<SessionWrite>();
  for (const write of writes) {
    const { id, workspaceId, sessionKey } = write.session;
    const keys = [
      `id:${id}`,
      ...(write.expectedVersion === null ? [`key:${workspaceId}/${sessionKey}`] : []),
    ];
    if (keys.some((key) => seen.has(key))) later.add(write);
    for (const key of keys) seen.add(key);
  }
  return later;
}

/**
 * Locks the unapplied inbound rows the writes consume. A write naming a row that is gone, applied already
 * or another conversation's is built on a stale view: it is marked stale before anything is written for it.
 * Rows locked here cannot be applied by another writer before this transaction ends.
 */
async function claimInbound(
  trx: Transaction<Database>,
  writes: readonly SessionWrite[],
  stale: Set<SessionWrite>,
): Promise<void> {
  const claims = new Map<string, { id: string; workspaceId: string; sessionKey: string }>();
  for (const { session, appliedInboundIds } of writes) {
    for (const id of appliedInboundIds) {
      const { workspaceId, sessionKey } = session;
      claims.set(`${workspaceId}\u0000${sessionKey}\u0000${id}`, { id, workspaceId, sessionKey });
    }
  }
  if (claims.size === 0) return;
  const wanted = [...claims.values()];
  // Only rows of the writer's own workspace and conversation are found, whatever ids a write names.
  const { rows } = await sql<{ id: string; workspace_id: string; session_key: string }>`
    select m.id, m.workspace_id, m.session_key
    from messages as m
    join unnest(
      ${wanted.map((claim) => claim.id)}::bigint[],
      ${wanted.map((claim) => claim.workspaceId)}::text[],
      ${wanted.map((claim) => claim.sessionKey)}::text[]
    ) as k(id, workspace_id, session_key)
      on m.id = k.id and m.workspace_id = k.workspace_id and m.session_key = k.session_key
    where m.direction = 'in' and m.applied_at is null
    -- Locked in id order, so two batches over the same rows queue instead of deadlocking.
    order by m.id
    for update of m`.execute(trx);
  const available = new Map(rows.map((row) => [row.id, row]));
  for (const write of writes) {
    const { workspaceId, sessionKey } = write.session;
    for (const id of new Set(write.appliedInboundIds)) {
      const row = available.get(id);
      if (row?.workspace_id !== workspaceId || row.session_key !== sessionKey) stale.add(write);
      // A row goes to one write only.
      else available.delete(id);
    }
  }
}

/** A write that gets no row back lost to another writer: an open session exists for the key, or the id is taken. */
async function insertSessions(
  trx: Transaction<Database>,
  writes: readonly SessionWrite[],
  rows: Map<SessionWrite, WrittenRow>,
): Promise<void> {
  if (writes.length === 0) return;
  const inserted = await trx
    .insertInto('sessions')
    .values(
      writes.map(({ session, now }) => ({
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
      })),
    )
    .onConflict((conflict) => conflict.doNothing())
    .returning(WRITTEN_COLUMNS)
    .execute();
  matchRows(writes, inserted, rows);
}

/** Version-checked: a write gets no row back when the version it read moved on (or the session is not its workspace's). */
async function updateSessions(
  trx: Transaction<Database>,
  writes: readonly SessionWrite[],
  rows: Map<SessionWrite, WrittenRow>,
): Promise<void> {
  if (writes.length === 0) return;
  const column = <T>(pick: (write: SessionWrite) => T) => writes.map(pick);
  const { rows: updated } = await sql<WrittenRow>`
    update sessions as s set
      state = v.state,
      snapshot = v.snapshot::jsonb,
      machine_version = v.machine_version,
      version = s.version + 1,
      next_deadline_at = v.next_deadline_at,
      updated_at = v.updated_at,
      closed_at = v.closed_at
    from unnest(
      ${column((w) => w.session.id)}::text[],
      ${column((w) => w.session.workspaceId)}::text[],
      ${column((w) => w.expectedVersion)}::int[],
      ${column((w) => w.session.state)}::text[],
      ${column((w) => toJson(w.session.snapshot))}::text[],
      ${column((w) => w.session.machineVersion)}::int[],
      ${column((w) => toIso(w.session.nextDeadlineAt))}::timestamptz[],
      ${column((w) => toIso(w.now))}::timestamptz[],
      ${column((w) => toIso(w.session.closedAt))}::timestamptz[]
    ) as v(id, workspace_id, expected_version, state, snapshot, machine_version, next_deadline_at, updated_at, closed_at)
    where s.id = v.id and s.workspace_id = v.workspace_id and s.version = v.expected_version
    returning ${sql.join(WRITTEN_COLUMNS.map((column) => sql.ref(`s.${column}`)))}`.execute(trx);
  matchRows(writes, updated, rows);
}

function matchRows(
  writes: readonly SessionWrite[],
  found: WrittenRow[],
  rows: Map<SessionWrite, WrittenRow>,
): void {
  const byId = new Map(found.map((row) => [row.id, row]));
  for (const write of writes) {
    const row = byId.get(write.session.id);
    if (row) rows.set(write, row);
  }
}

async function markInboundApplied(
  trx: Transaction<Database>,
  writes: readonly SessionWrite[],
): Promise<void> {
  const marks = writes.flatMap((write) =>
    [...new Set(write.appliedInboundIds)].map((id) => ({
      id,
      workspaceId: write.session.workspaceId,
      sessionId: write.session.id,
      at: toIso(write.now),
    })),
  );
  if (marks.length === 0) return;
  await sql`
    update messages as m set applied_at = v.applied_at, session_id = v.session_id
    from unnest(
      ${marks.map((mark) => mark.id)}::bigint[],
      ${marks.map((mark) => mark.workspaceId)}::text[],
      ${marks.map((mark) => mark.sessionId)}::text[],
      ${marks.map((mark) => mark.at)}::timestamptz[]
    ) as v(id, workspace_id, session_id, applied_at)
    where m.id = v.id and m.workspace_id = v.workspace_id`.execute(trx);
}

/**
 * Each outbound intent becomes a pending message row and an outbox row. The outbox rows are copied from the
 * message rows in the same statement, which pairs each with its message without relying on the order
 * RETURNING yields rows in.
 */
async function insertOutbound(trx: Transaction<Database>, writes: readonly SessionWrite[]): Promise<void> {
  const messages = writes.flatMap(({ session, outbound, now }) =>
    outbound.map((intent) => ({
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
  );
  if (messages.length === 0) return;
  await trx
    .with('sent', (cte) =>
      cte
        .insertInto('messages')
        .values(messages)
        .returning([
          'id',
          'workspace_id',
          'session_id',
          'phone_number_id',
          'customer_wa_id',
          'payload',
          'sent_at',
        ]),
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
      eb
        .selectFrom('sent')
        .select([
          'sent.workspace_id',
          'sent.session_id',
          'sent.id',
          'sent.phone_number_id',
          'sent.customer_wa_id',
          'sent.payload',
          sql.lit('pending').as('status'),
          'sent.sent_at',
        ]),
    )
    .execute();
}

/** The events of the writes that carry one, in the transaction's last statement (session-event-rows.ts). */
async function insertEvents(
  trx: Transaction<Database>,
  writes: readonly SessionWrite[],
): Promise<Map<SessionWrite, string>> {
  const withEvents = writes.filter((write) => write.event !== undefined);
  const ids = await insertSessionEvents(
    trx,
    withEvents.map((write) => ({
      workspaceId: write.session.workspaceId,
      sessionId: write.session.id,
      payload: toJson(write.event),
    })),
  );
  return new Map(withEvents.map((write, i) => [write, ids[i]!]));
}

/** Timestamps travel inside arrays as ISO text: both drivers pass text through untouched. */
function toIso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
