// No imports: the inbox page applies live statuses by the same order, and its bundle takes this file as is.

/**
 * Meta delivers statuses late, twice and out of order (a `delivered` can arrive after its `read`), so a
 * status only replaces a lower one. `failed` outranks sent and delivered: Meta can send it after `sent`,
 * and a stale `delivered` must not hide it. `read` outranks `failed`: Meta does not send read after failed,
 * but if it did, the customer has seen the message, and an agent shown "failed" would send it again.
 * Unknown statuses rank 0: kept when nothing is known, never replacing a known status.
 */
const STATUS_RANK = new Map<string, number>([
  ['sent', 1],
  ['delivered', 2],
  ['failed', 3],
  ['read', 4],
]);

export function statusRank(status: string): number {
  return STATUS_RANK.get(status) ?? 0;
}

/** Whether `next` should replace `current`; a redelivered status (same rank) changes nothing. */
export function isStatusAdvance(current: string | null, next: string): boolean {
  return current === null || statusRank(next) > statusRank(current);
}
