import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import { statusRank } from '../whatsapp/status-rank.ts';
import { Batcher } from './batcher.ts';
import type { Database, MessageStatus } from './schema.ts';
import { insertStatusEvents, type StatusChanged, type StatusEventsListener } from './status-events.ts';

/** The delivery statuses Meta reports for a business's own messages. */
export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

/** A status for one workspace's message, named by its wamid. */
export interface StatusChange {
  workspaceId: string;
  wamid: string;
  status: DeliveryStatus;
  /** Meta's error, stored with a `failed` status. */
  error: { code: number; title: string } | null;
  /** When it reached us, ms since epoch: dates a failure notice, and a held status for its expiry. */
  receivedAt: number;
}

/**
 * What a status did: moved its message forward; found it there already or further on (a duplicate, or
 * `delivered` arriving after `read`); or found no message of the workspace with that wamid (yet).
 */
export type StatusOutcome = 'advanced' | 'unchanged' | 'unmatched';

/** A held status is dropped this long after it arrived: its message is not ours, or never got its wamid. */
export const HELD_STATUS_TTL_MS = 24 * 60 * 60 * 1_000;

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['sent', 'delivered', 'read', 'failed'];

/**
 * The rank of a status column or value in SQL, the same as `statusRank` (0 for `pending` and anything else):
 * a status only ever replaces a lower one.
 */
function rankOf(status: RawBuilder<unknown>): RawBuilder<number> {
  const ordered = [...DELIVERY_STATUSES].sort((a, b) => statusRank(a) - statusRank(b));
  return sql<number>`coalesce(array_position(array[${sql.join(ordered.map((s) => sql.lit(s)))}]::text[], ${status}), 0)`;
}

/**
 * Moves the workspace's outbound message named by `change.wamid` forward, if `change` is an advance, in one
 * conditional UPDATE, so concurrent and redelivered statuses can never move it backwards. A `failed` that
 * advances leaves a failure notice for the message's session, and any advance a session event for the live
 * inbox (status-events.ts), in the same transaction; `onEvents` hears of the event after the commit.
 */
export async function advanceMessageStatus(
  db: Kysely<Database>,
  change: StatusChange,
  onEvents?: StatusEventsListener,
): Promise<StatusOutcome> {
  const [outcome] = await advanceInTransaction(db, [change], onEvents);
  return outcome!;
}

export type StatusAdvance = (change: StatusChange) => Promise<StatusOutcome>;

/**
 * `advanceMessageStatus` for many concurrent webhooks at once: their changes share one transaction (one
 * commit), with the same outcome each would have had alone.
 */
export function createStatusAdvancer(db: Kysely<Database>, onEvents?: StatusEventsListener): StatusAdvance {
  const batcher = new Batcher<StatusChange, StatusOutcome>({
    maxBatchSize: 250,
    run: async (changes) => {
      const outcomes = await advanceInTransaction(db, changes, onEvents);
      return outcomes.map((value) => ({ ok: true, value }));
    },
  });
  return (change) => batcher.submit(change);
}

/**
 * The changes, their failure notices and their session events in one transaction. Two changes of one message
 * go in arrival order, one statement each, since one statement updates a row once.
 */
async function advanceInTransaction(
  db: Kysely<Database>,
  changes: readonly StatusChange[],
  onEvents: StatusEventsListener | undefined,
): Promise<StatusOutcome[]> {
  const outcomes = new Array<StatusOutcome>(changes.length);
  const rang = await db.transaction().execute(async (trx) => {
    const changed: StatusChanged[] = [];
    let remaining = changes.map((change, index) => ({ change, index }));
    while (remaining.length > 0) {
      const seen = new Set<string>();
      const round = remaining.filter(({ change }) => {
        const key = keyOf(change);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      remaining = remaining.filter((entry) => !round.includes(entry));
      const advanced = await advanceMessageStatuses(
        trx,
        round.map(({ change }) => change),
      );
      round.forEach(({ index }, i) => {
        outcomes[index] = advanced.outcomes[i]!;
      });
      changed.push(...advanced.changed);
    }
    return insertStatusEvents(trx, changed);
  });
  if (rang.length > 0) onEvents?.(rang);
  return outcomes;
}

/** What an advancing statement read back of each message it moved. */
interface ChangedRow {
  message_id: string;
  workspace_id: string;
  session_id: string | null;
  session_key: string;
  partition: number;
  wamid: string | null;
  status: MessageStatus;
  error_code: number | null;
  error_title: string | null;
}

/** The event a moved message leaves; none for a message no session wrote, which no inbox shows. */
function toStatusChanged(row: ChangedRow, at: number): StatusChanged[] {
  if (row.session_id === null) return [];
  return [
    {
      messageId: String(row.message_id),
      workspaceId: row.workspace_id,
      sessionId: row.session_id,
      sessionKey: row.session_key,
      partition: row.partition,
      wamid: row.wamid,
      status: row.status,
      errorCode: row.error_code,
      errorTitle: row.error_title,
      at,
    },
  ];
}

/** Changes of distinct messages in one statement; the outcome of each, in order, and the messages moved. */
async function advanceMessageStatuses(
  trx: Transaction<Database>,
  changes: readonly StatusChange[],
): Promise<{ outcomes: StatusOutcome[]; changed: StatusChanged[] }> {
  const { rows } = await sql<Partial<ChangedRow> & { n: number; known: boolean }>`
    with v as (
      select * from ${statusRows(changes)}
        with ordinality as v(workspace_id, wamid, status, error_code, error_title, received_at, n)
    ), advanced as (
      ${advanceMessagesFrom('v', sql`v.n, v.received_at,`)}
    ), noticed as (
      ${insertFailureNotices(sql`select id, workspace_id, received_at from advanced where status = 'failed'`)}
    )
    select v.n, a.id as message_id, a.workspace_id, a.session_id, a.session_key, a.partition, a.wamid,
      a.status, a.error_code, a.error_title,
      exists (
        select 1 from messages as m
        where m.workspace_id = v.workspace_id and m.direction = 'out' and m.wamid = v.wamid
      ) as known
    from v left join advanced as a on a.n = v.n`.execute(trx);
  const outcomes = new Array<StatusOutcome>(changes.length);
  const changed: StatusChanged[] = [];
  for (const row of rows) {
    const index = Number(row.n) - 1;
    const advanced = row.message_id !== null && row.message_id !== undefined;
    outcomes[index] = advanced ? 'advanced' : row.known ? 'unchanged' : 'unmatched';
    if (advanced) changed.push(...toStatusChanged(row as ChangedRow, changes[index]!.receivedAt));
  }
  return { outcomes, changed };
}

/**
 * Keeps statuses that matched no message, the highest per wamid, for `applyHeldStatuses` to apply once the
 * sender has stored the wamid; drops those held longer than HELD_STATUS_TTL_MS.
 */
export async function holdStatuses(db: Kysely<Database>, changes: readonly StatusChange[]): Promise<void> {
  if (changes.length === 0) return;
  const highest = new Map<string, StatusChange>();
  for (const change of changes) {
    const held = highest.get(keyOf(change));
    if (!held || statusRank(change.status) > statusRank(held.status)) highest.set(keyOf(change), change);
  }
  const latest = Math.max(...changes.map((change) => change.receivedAt));
  await db
    .deleteFrom('unmatched_statuses')
    .where('received_at', '<', new Date(latest - HELD_STATUS_TTL_MS))
    .execute();
  await sql`
    insert into unmatched_statuses as u (workspace_id, wamid, status, error_code, error_title, received_at)
    select * from ${statusRows([...highest.values()])}
    on conflict (workspace_id, wamid) do update set
      status = excluded.status,
      error_code = excluded.error_code,
      error_title = excluded.error_title,
      received_at = excluded.received_at
    where ${rankOf(sql.ref('excluded.status'))} > ${rankOf(sql.ref('u.status'))}`.execute(db);
}

/**
 * Applies, and deletes, the held statuses of these wamids whose message now exists, forward only; a `failed`
 * among them leaves a failure notice dated `now`. Returns how many notices it left.
 *
 * Both sides call it after their own commit: the sender once it stored wamids, the gateway once it held
 * statuses. Whichever of the two commits last, its call sees both the wamid and the held status, so a status
 * racing the wamid's commit is applied either way.
 */
export async function applyHeldStatuses(
  db: Kysely<Database>,
  wamids: readonly { workspaceId: string; wamid: string }[],
  now: number,
  onEvents?: StatusEventsListener,
): Promise<number> {
  if (wamids.length === 0) return 0;
  const { noticed, rang } = await db.transaction().execute(async (trx) => {
    const applied = await applyHeld(trx, wamids, now);
    return { noticed: applied.noticed, rang: await insertStatusEvents(trx, applied.changed) };
  });
  if (rang.length > 0) onEvents?.(rang);
  return noticed;
}

async function applyHeld(
  trx: Transaction<Database>,
  wamids: readonly { workspaceId: string; wamid: string }[],
  now: number,
): Promise<{ noticed: number; changed: StatusChanged[] }> {
  const { rows } = await sql<ChangedRow & { noticed: number }>`
    with held as (
      delete from unmatched_statuses as u
      using unnest(
        ${wamids.map((key) => key.workspaceId)}::text[],
        ${wamids.map((key) => key.wamid)}::text[]
      ) as k(workspace_id, wamid)
      where u.workspace_id = k.workspace_id and u.wamid = k.wamid
        and exists (
          select 1 from messages as m
          where m.workspace_id = u.workspace_id and m.direction = 'out' and m.wamid = u.wamid
        )
      returning u.workspace_id, u.wamid, u.status, u.error_code, u.error_title
    ), advanced as (
      ${advanceMessagesFrom('held')}
    ), noticed as (
      ${insertFailureNotices(
        sql`select id, workspace_id, ${new Date(now).toISOString()}::timestamptz from advanced where status = 'failed'`,
      )}
    )
    select a.id as message_id, a.workspace_id, a.session_id, a.session_key, a.partition, a.wamid, a.status,
      a.error_code, a.error_title, (select count(*)::int from noticed) as noticed
    from advanced as a`.execute(trx);
  return {
    noticed: rows[0]?.noticed ?? 0,
    changed: rows.flatMap((row) => toStatusChanged(row, now)),
  };
}

/**
 * The update, for a CTE, that moves each outbound message a row of `source` names (workspace_id, wamid) to the
 * row's status, forward only; a failure keeps Meta's error code and title. It returns what toStatusChanged
 * reads, after `extra` columns of the source.
 */
function advanceMessagesFrom(source: 'v' | 'held', extra: RawBuilder<unknown> = sql``): RawBuilder<unknown> {
  const column = (name: string) => sql.ref(`${source}.${name}`);
  return sql`
      update messages as m set
        status = ${column('status')},
        error_code = case when ${column('status')} = 'failed' then ${column('error_code')} else m.error_code end,
        error_title = case when ${column('status')} = 'failed' then ${column('error_title')} else m.error_title end
      from ${sql.table(source)}
      where m.workspace_id = ${column('workspace_id')} and m.direction = 'out' and m.wamid = ${column('wamid')}
        and ${rankOf(column('status'))} > ${rankOf(sql.ref('m.status'))}
      returning ${extra} m.id, m.workspace_id, m.session_id, m.session_key, m.partition, m.wamid, m.status,
        m.error_code, m.error_title`;
}

/** Status changes as rows: workspace_id, wamid, status, error_code, error_title, received_at. */
function statusRows(changes: readonly StatusChange[]): RawBuilder<unknown> {
  const column = <T>(pick: (change: StatusChange) => T) => changes.map(pick);
  return sql`unnest(
    ${column((change) => change.workspaceId)}::text[],
    ${column((change) => change.wamid)}::text[],
    ${column((change) => change.status)}::text[],
    ${column((change) => change.error?.code ?? null)}::int[],
    ${column((change) => change.error?.title ?? null)}::text[],
    ${column((change) => new Date(change.receivedAt).toISOString())}::timestamptz[]
  )`;
}

/** The insert, for a CTE, of a failure notice per row of `failed` (message id, workspace id, when). */
function insertFailureNotices(failed: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    insert into failure_notices (message_id, workspace_id, next_attempt_at, created_at)
    select f.id, f.workspace_id, f.at, f.at from (${failed}) as f(id, workspace_id, at)
    on conflict (message_id) do nothing
    returning message_id`;
}

function keyOf(change: { workspaceId: string; wamid: string }): string {
  return `${change.workspaceId}\u0000${change.wamid}`;
}
