import { type Kysely, sql, type Transaction, type UpdateQueryBuilder, type UpdateResult } from 'kysely';
import type { Logger } from 'pino';
import { Batcher } from './batcher.ts';
import { applyHeldStatuses } from './message-status.ts';
import type { Database, MessageStatus } from './schema.ts';
import { insertStatusEvents, type StatusChanged, type StatusEventsListener } from './status-events.ts';

/** An outbox row a sender holds the lease of, with what delivering it takes. */
export interface ClaimedDelivery {
  /** The outbox row's id. */
  id: string;
  messageId: string;
  workspaceId: string;
  sessionId: string;
  sessionKey: string;
  partition: number;
  phoneNumberId: string;
  customerWaId: string;
  /** The message's type: a `template` may go out after the 24-hour window, nothing else may. */
  type: string;
  /** The Graph API message object the session wrote (`OutboundIntent.payload`). */
  payload: unknown;
  /** Which attempt this claim is, 1 for the first; a claim that never reached Meta gives its attempt back. */
  attempt: number;
  /** The row is this sender's until then. Every write is fenced on it, so a lapsed lease writes nothing. */
  leasedUntil: number;
  /** When the session wrote the intent, ms since epoch. */
  createdAt: number;
  /** Meta's timestamp of the customer's latest message to this number, over every session; null if none. */
  lastCustomerMessageAt: number | null;
}

export interface DeliveryFailure {
  /** Meta's error code (131047, 131026, ...); null when the failure is not one of Meta's. */
  code: number | null;
  title: string;
}

/** The outbox as the sender sees it. Every write names the lease it holds; false means the lease was lost. */
export interface OutboxStore {
  /**
   * Leases up to `limit` due pending rows, oldest first, skipping rows another sender is claiming right now.
   * Only the oldest pending row of each conversation is ever due, so a customer's messages go out in order
   * and one at a time, whichever sender holds them.
   */
  claimDue(options: { now: number; leaseUntil: number; limit: number }): Promise<ClaimedDelivery[]>;
  /** Stores Meta's (or the sandbox's) wamid on the message and marks message and row sent, together. */
  markSent(delivery: ClaimedDelivery, wamid: string, now: number): Promise<boolean>;
  /** Fails message and row, the message keeping the error's code and title, and leaves its session a notice. */
  markFailed(delivery: ClaimedDelivery, failure: DeliveryFailure, now: number): Promise<boolean>;
  /** Puts the row back to be claimed at `at`; `attempted: false` gives the claim's attempt back (pacing). */
  reschedule(delivery: ClaimedDelivery, at: number, attempted: boolean): Promise<boolean>;
}

export interface OutboxStoreOptions {
  /** Called after a commit that left failure notices for sessions (failure-notices.ts delivers them). */
  onFailureNotices?(): void;
  /** Called after a commit that marked messages sent or failed: their session events are there for live inboxes. */
  onStatusEvents?: StatusEventsListener;
  /** Told of what cannot fail a mark already committed: a held status that could not be applied. */
  logger?: Pick<Logger, 'warn'>;
}

export function createOutboxStore(db: Kysely<Database>, options: OutboxStoreOptions = {}): OutboxStore {
  // Every reply ends in a mark; concurrent deliveries share one statement (and one commit) for theirs.
  const sentMarks = new Batcher<SentMark, boolean>({
    maxBatchSize: 250,
    run: async (marks) => {
      const { sent, rang } = await db.transaction().execute(async (trx) => {
        const marked = await markSentIn(trx, marks);
        return { sent: marked.sent, rang: await insertStatusEvents(trx, marked.changed) };
      });
      if (rang.length > 0) options.onStatusEvents?.(rang);
      await applyStatusesHeldFor(marks.filter((mark) => sent.has(mark.delivery.id)));
      return marks.map((mark) => ({ ok: true, value: sent.has(mark.delivery.id) }));
    },
  });

  /**
   * Meta may report on a message before its wamid is committed here (statuses come back within a second, marks
   * are batched): the gateway holds those statuses, and they are applied now that the wamids are stored.
   */
  async function applyStatusesHeldFor(marks: readonly SentMark[]): Promise<void> {
    if (marks.length === 0) return;
    const now = Math.max(...marks.map((mark) => mark.now));
    const wamids = marks.map((mark) => ({ workspaceId: mark.delivery.workspaceId, wamid: mark.wamid }));
    try {
      if ((await applyHeldStatuses(db, wamids, now, options.onStatusEvents)) > 0)
        options.onFailureNotices?.();
    } catch (error) {
      // The marks are committed and stand. A held status stays held until it expires; its message shows
      // `sent` until Meta's next status about it, which finds the wamid.
      options.logger?.warn({ err: error }, 'held statuses not applied to messages just sent');
    }
  }

  return {
    async claimDue({ now, leaseUntil, limit }) {
      // One statement: pick and lock the due heads (SKIP LOCKED: rows another sender is claiming are not
      // waited for), then lease them. A leased head keeps its status `pending`, so the conversation's next
      // row stays behind it until it is sent or failed. PGlite has one connection: nothing is locked there.
      const rows = await db
        .with('due', (with_) =>
          with_
            .selectFrom('outbox as due')
            .select('due.id')
            .where('due.status', '=', sql.lit('pending'))
            .where('due.next_attempt_at', '<=', new Date(now))
            // The conversation's oldest pending row. A correlated min() is one index probe per candidate
            // whatever the planner guesses; an anti-join, on tables never analyzed (PGlite runs no
            // autovacuum), was planned as a scan of every pending row for every candidate.
            .where((eb) =>
              eb(
                'due.id',
                '=',
                eb
                  .selectFrom('outbox as earlier')
                  .select((earlier) => earlier.fn.min('earlier.id').as('head'))
                  .whereRef('earlier.phone_number_id', '=', 'due.phone_number_id')
                  .whereRef('earlier.customer_wa_id', '=', 'due.customer_wa_id')
                  .where('earlier.status', '=', sql.lit('pending')),
              ),
            )
            .orderBy('due.id')
            .limit(limit)
            .forUpdate()
            .skipLocked(),
        )
        .updateTable('outbox')
        .from(['due', 'messages'])
        .set((eb) => ({ attempts: eb('outbox.attempts', '+', 1), next_attempt_at: new Date(leaseUntil) }))
        .whereRef('outbox.id', '=', 'due.id')
        .whereRef('messages.id', '=', 'outbox.message_id')
        .returning((eb) => [
          'outbox.id',
          'outbox.message_id',
          'outbox.workspace_id',
          'outbox.session_id',
          'outbox.phone_number_id',
          'outbox.customer_wa_id',
          'outbox.payload',
          'outbox.attempts',
          'messages.session_key',
          'messages.partition',
          'messages.type',
          'messages.sent_at',
          eb
            .selectFrom('messages as inbound')
            .select((inbound) => inbound.fn.max('inbound.sent_at').as('at'))
            .whereRef('inbound.workspace_id', '=', 'outbox.workspace_id')
            .whereRef('inbound.session_key', '=', 'messages.session_key')
            .where('inbound.direction', '=', sql.lit('in'))
            .as('last_customer_message_at'),
        ])
        .execute();
      return rows
        .map(
          (row): ClaimedDelivery => ({
            id: row.id,
            messageId: row.message_id,
            workspaceId: row.workspace_id,
            sessionId: row.session_id,
            sessionKey: row.session_key,
            partition: row.partition,
            phoneNumberId: row.phone_number_id,
            customerWaId: row.customer_wa_id,
            type: row.type,
            payload: row.payload,
            attempt: row.attempts,
            leasedUntil: leaseUntil,
            createdAt: row.sent_at.getTime(),
            lastCustomerMessageAt:
              row.last_customer_message_at === null ? null : new Date(row.last_customer_message_at).getTime(),
          }),
        )
        .sort((a, b) => compareIds(a.id, b.id));
    },

    markSent: (delivery, wamid, now) => sentMarks.submit({ delivery, wamid, now }),

    async markFailed(delivery, failure, now) {
      const failed = await db.transaction().execute(async (trx) => {
        if (!(await finish(trx, delivery, 'failed', now))) return false;
        const changed = await trx
          .updateTable('messages')
          .set({ status: 'failed', error_code: failure.code, error_title: failure.title })
          .where('workspace_id', '=', delivery.workspaceId)
          .where('id', '=', delivery.messageId)
          .where('status', '=', 'pending')
          .returning(['id', 'wamid', 'status', 'error_code', 'error_title'])
          .execute();
        const rang = await insertStatusEvents(
          trx,
          changed.map((row) => statusChangeOf(delivery, { ...row, id: String(row.id) }, now)),
        );
        // The session records the failure in its history: durably told, whether or not it is reachable now.
        await trx
          .insertInto('failure_notices')
          .values({
            message_id: delivery.messageId,
            workspace_id: delivery.workspaceId,
            next_attempt_at: new Date(now),
            created_at: new Date(now),
          })
          .onConflict((conflict) => conflict.column('message_id').doNothing())
          .execute();
        return rang;
      });
      if (failed === false) return false;
      if (failed.length > 0) options.onStatusEvents?.(failed);
      options.onFailureNotices?.();
      return true;
    },

    async reschedule(delivery, at, attempted) {
      const result = await leased(
        db.updateTable('outbox').set((eb) => ({
          next_attempt_at: new Date(at),
          attempts: attempted ? eb.ref('attempts') : eb('attempts', '-', 1),
        })),
        delivery,
      ).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

type OutboxUpdate = UpdateQueryBuilder<Database, 'outbox', 'outbox', UpdateResult>;

interface SentMark {
  delivery: ClaimedDelivery;
  wamid: string;
  now: number;
}

/**
 * Marks rows and their messages sent in one statement: each row only while its delivery's lease is still the
 * row's, and its message only with it. Returns the outbox ids that were marked, and the messages that moved.
 */
async function markSentIn(
  trx: Transaction<Database>,
  marks: readonly SentMark[],
): Promise<{ sent: Set<string>; changed: StatusChanged[] }> {
  const column = <T>(pick: (mark: SentMark) => T) => marks.map(pick);
  const { rows } = await sql<{
    id: string;
    message_id: string | null;
    wamid: string | null;
    status: MessageStatus | null;
  }>`
    with done as (
      update outbox as o set status = 'sent', sent_at = v.sent_at
      from unnest(
        ${column((mark) => mark.delivery.id)}::bigint[],
        ${column((mark) => mark.delivery.workspaceId)}::text[],
        ${column((mark) => new Date(mark.delivery.leasedUntil).toISOString())}::timestamptz[],
        ${column((mark) => new Date(mark.now).toISOString())}::timestamptz[],
        ${column((mark) => mark.wamid)}::text[]
      ) as v(id, workspace_id, leased_until, sent_at, wamid)
      where o.id = v.id and o.workspace_id = v.workspace_id and o.status = 'pending'
        and o.next_attempt_at = v.leased_until
      returning o.id, o.message_id, o.workspace_id, v.wamid
    ), marked as (
      update messages as m set wamid = done.wamid, status = 'sent'
      from done
      where m.id = done.message_id and m.workspace_id = done.workspace_id and m.status = 'pending'
      returning m.id, m.workspace_id, m.wamid, m.status
    )
    select done.id, marked.id as message_id, marked.wamid, marked.status
    from done left join marked on marked.id = done.message_id and marked.workspace_id = done.workspace_id`.execute(
    trx,
  );
  const byOutboxId = new Map(marks.map((mark) => [mark.delivery.id, mark]));
  const changed: StatusChanged[] = [];
  for (const row of rows) {
    const mark = byOutboxId.get(String(row.id));
    if (!mark || row.message_id === null || row.status === null) continue;
    changed.push(
      statusChangeOf(
        mark.delivery,
        {
          id: String(row.message_id),
          wamid: row.wamid,
          status: row.status,
          error_code: null,
          error_title: null,
        },
        mark.now,
      ),
    );
  }
  return { sent: new Set(rows.map((row) => String(row.id))), changed };
}

/** The event a delivery's message leaves when the sender moves its status. */
function statusChangeOf(
  delivery: ClaimedDelivery,
  message: Pick<StatusChanged, 'wamid' | 'status'> & {
    id: string;
    error_code: number | null;
    error_title: string | null;
  },
  at: number,
): StatusChanged {
  return {
    messageId: message.id,
    workspaceId: delivery.workspaceId,
    sessionId: delivery.sessionId,
    sessionKey: delivery.sessionKey,
    partition: delivery.partition,
    wamid: message.wamid,
    status: message.status,
    errorCode: message.error_code,
    errorTitle: message.error_title,
    at,
  };
}

/** Narrows an update to the row while this delivery's lease is still the row's. */
function leased(update: OutboxUpdate, delivery: ClaimedDelivery): OutboxUpdate {
  return update
    .where('outbox.id', '=', delivery.id)
    .where('outbox.workspace_id', '=', delivery.workspaceId)
    .where('outbox.status', '=', sql.lit('pending'))
    .where('outbox.next_attempt_at', '=', new Date(delivery.leasedUntil));
}

async function finish(
  trx: Kysely<Database>,
  delivery: ClaimedDelivery,
  status: 'sent' | 'failed',
  now: number,
): Promise<boolean> {
  const result = await leased(
    trx.updateTable('outbox').set({ status, ...(status === 'sent' ? { sent_at: new Date(now) } : {}) }),
    delivery,
  ).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Identity ids are bigints read as strings: shorter is smaller, then digit by digit. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
