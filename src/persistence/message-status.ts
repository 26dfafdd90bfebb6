import { type Kysely, sql } from 'kysely';
import { isStatusAdvance } from '../whatsapp/webhook-payload.ts';
import { Batcher } from './batcher.ts';
import type { Database, MessageStatus } from './schema.ts';
import type { SessionAddress } from './session-store.ts';

/** The delivery statuses Meta reports for a business's own messages. */
export type DeliveryStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface StatusChange {
  wamid: string;
  status: DeliveryStatus;
  /** Meta's error, stored with a `failed` status. */
  error: { code: number; title: string } | null;
}

const OUTBOUND_STATUSES: readonly MessageStatus[] = ['pending', 'sent', 'delivered', 'read', 'failed'];

/**
 * Moves the workspace's outbound message named by `wamid` to `status` if that is an advance, in one
 * conditional UPDATE, so concurrent and redelivered statuses can never move it backwards. Returns the
 * message's session when it changed; undefined when no message of the workspace has that wamid or the
 * status is not newer than the stored one (a duplicate, or `delivered` arriving after `read`).
 */
export async function advanceMessageStatus(
  db: Kysely<Database>,
  workspaceId: string,
  change: StatusChange,
): Promise<(SessionAddress & { sessionId: string | null }) | undefined> {
  const replaceable = OUTBOUND_STATUSES.filter((current) => isStatusAdvance(current, change.status));
  const row = await db
    .updateTable('messages')
    .set({
      status: change.status,
      ...(change.status === 'failed'
        ? { error_code: change.error?.code ?? null, error_title: change.error?.title ?? null }
        : {}),
    })
    .where('workspace_id', '=', workspaceId)
    .where('direction', '=', sql.lit('out'))
    .where('wamid', '=', change.wamid)
    .where('status', 'in', replaceable)
    .returning(['session_key', 'partition', 'session_id'])
    .executeTakeFirst();
  return (
    row && {
      workspaceId,
      sessionKey: row.session_key,
      partition: row.partition,
      sessionId: row.session_id,
    }
  );
}

/** A status change for one workspace's message, as `advanceMessageStatus` takes it. */
export interface WorkspaceStatusChange extends StatusChange {
  workspaceId: string;
}

export type StatusAdvance = (change: WorkspaceStatusChange) => Promise<AdvancedMessage | undefined>;
type AdvancedMessage = SessionAddress & { sessionId: string | null };

/**
 * `advanceMessageStatus` for many concurrent webhooks at once: their changes share one statement (one commit),
 * with the same outcome each would have had alone. Two changes of one message in a batch go in arrival order,
 * one statement each, since one statement updates a row once.
 */
export function createStatusAdvancer(db: Kysely<Database>): StatusAdvance {
  const batcher = new Batcher<WorkspaceStatusChange, AdvancedMessage | undefined>({
    maxBatchSize: 250,
    run: async (changes) => {
      const outcomes = new Array<AdvancedMessage | undefined>(changes.length);
      let remaining = changes.map((change, index) => ({ change, index }));
      while (remaining.length > 0) {
        const seen = new Set<string>();
        const round = remaining.filter(({ change }) => {
          const key = `${change.workspaceId}\u0000${change.wamid}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
        remaining = remaining.filter((entry) => !round.includes(entry));
        const advanced = await advanceMessageStatuses(
          db,
          round.map(({ change }) => change),
        );
        round.forEach(({ index }, i) => {
          outcomes[index] = advanced[i];
        });
      }
      return outcomes.map((value) => ({ ok: true, value }));
    },
  });
  return (change) => batcher.submit(change);
}

/** Changes of distinct messages in one conditional UPDATE; the outcome of each, in order. */
async function advanceMessageStatuses(
  db: Kysely<Database>,
  changes: readonly WorkspaceStatusChange[],
): Promise<(AdvancedMessage | undefined)[]> {
  const column = <T>(pick: (change: WorkspaceStatusChange) => T) => changes.map(pick);
  const replaceable = (status: DeliveryStatus) =>
    OUTBOUND_STATUSES.filter((current) => isStatusAdvance(current, status)).join(',');
  const { rows } = await sql<{
    n: number;
    session_key: string;
    partition: number;
    session_id: string | null;
  }>`
    update messages as m set
      status = v.status,
      error_code = case when v.status = 'failed' then v.error_code else m.error_code end,
      error_title = case when v.status = 'failed' then v.error_title else m.error_title end
    from unnest(
      ${column((change) => change.workspaceId)}::text[],
      ${column((change) => change.wamid)}::text[],
      ${column((change) => change.status)}::text[],
      ${column((change) => replaceable(change.status))}::text[],
      ${column((change) => change.error?.code ?? null)}::int[],
      ${column((change) => change.error?.title ?? null)}::text[]
    ) with ordinality as v(workspace_id, wamid, status, replaceable, error_code, error_title, n)
    where m.workspace_id = v.workspace_id and m.direction = 'out' and m.wamid = v.wamid
      and m.status = any(string_to_array(v.replaceable, ','))
    returning v.n, m.session_key, m.partition, m.session_id`.execute(db);
  const outcomes = new Array<AdvancedMessage | undefined>(changes.length);
  for (const row of rows) {
    const change = changes[Number(row.n) - 1]!;
    outcomes[Number(row.n) - 1] = {
      workspaceId: change.workspaceId,
      sessionKey: row.session_key,
      partition: row.partition,
      sessionId: row.session_id,
    };
  }
  return outcomes;
}
