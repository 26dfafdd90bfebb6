import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { SessionAddress } from './session-store.ts';

/** A failed message whose session is to be told, leased to one notifier until `leasedUntil`. */
export interface ClaimedNotice extends SessionAddress {
  messageId: string;
  /** The session that sent the message: only it is told, not the customer's next one under the same key. */
  sessionId: string;
  /** The message's wamid, or its row id when it never reached Meta (how the session's history names it). */
  wamid: string;
  error: { code: number | null; title: string };
  /** When the message failed, ms since epoch. */
  createdAt: number;
  /** 1 for the first claim. */
  attempt: number;
  leasedUntil: number;
}

/** The failure notices as the notifier sees them; each write is fenced on the lease, false when it was lost. */
export interface FailureNoticeStore {
  /**
   * Leases up to `limit` due notices, oldest first, skipping those another notifier is claiming right now. It
   * spans workspaces on purpose (decision 0009); each notice comes back with its workspace, which every later
   * write names, and its message is read only within that workspace.
   */
  claimDue(options: { now: number; leaseUntil: number; limit: number }): Promise<ClaimedNotice[]>;
  /** The session has it (or never will): the notice goes. */
  remove(notice: ClaimedNotice): Promise<boolean>;
  /** Claimed again from `at`. */
  retryAt(notice: ClaimedNotice, at: number): Promise<boolean>;
}

export function createFailureNoticeStore(db: Kysely<Database>): FailureNoticeStore {
  return {
    async claimDue({ now, leaseUntil, limit }) {
      const rows = await db
        .with('due', (with_) =>
          with_
            .selectFrom('failure_notices')
            .select('message_id')
            .where('next_attempt_at', '<=', new Date(now))
            .orderBy('next_attempt_at')
            .limit(limit)
            .forUpdate()
            .skipLocked(),
        )
        .updateTable('failure_notices')
        .from(['due', 'messages'])
        .set((eb) => ({
          attempts: eb('failure_notices.attempts', '+', 1),
          next_attempt_at: new Date(leaseUntil),
        }))
        .whereRef('failure_notices.message_id', '=', 'due.message_id')
        .whereRef('messages.id', '=', 'failure_notices.message_id')
        .whereRef('messages.workspace_id', '=', 'failure_notices.workspace_id')
        .returning([
          'failure_notices.message_id',
          'failure_notices.workspace_id',
          'failure_notices.attempts',
          'failure_notices.created_at',
          'messages.session_key',
          'messages.partition',
          'messages.session_id',
          'messages.wamid',
          'messages.error_code',
          'messages.error_title',
        ])
        .execute();
      return rows.map(
        (row): ClaimedNotice => ({
          messageId: row.message_id,
          workspaceId: row.workspace_id,
          sessionKey: row.session_key,
          partition: row.partition,
          // Outbound rows are written by their session, so they always name it.
          sessionId: row.session_id!,
          wamid: row.wamid ?? row.message_id,
          error: { code: row.error_code, title: row.error_title ?? 'Delivery failed' },
          createdAt: row.created_at.getTime(),
          attempt: row.attempts,
          leasedUntil: leaseUntil,
        }),
      );
    },

    async remove(notice) {
      const result = await db
        .deleteFrom('failure_notices')
        .where('workspace_id', '=', notice.workspaceId)
        .where('message_id', '=', notice.messageId)
        .where('next_attempt_at', '=', new Date(notice.leasedUntil))
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },

    async retryAt(notice, at) {
      const result = await db
        .updateTable('failure_notices')
        .set({ next_attempt_at: new Date(at) })
        .where('workspace_id', '=', notice.workspaceId)
        .where('message_id', '=', notice.messageId)
        .where('next_attempt_at', '=', new Date(notice.leasedUntil))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
