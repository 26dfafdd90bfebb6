import type { Kysely } from 'kysely';
import type { Clock } from '../clock/clock.ts';
import { isDataRefusal } from '../persistence/database.ts';
import {
  applyHeldStatuses,
  createStatusAdvancer,
  type DeliveryStatus,
  holdStatuses,
  type StatusChange,
} from '../persistence/message-status.ts';
import type { Database } from '../persistence/schema.ts';
import type { StatusEventsListener } from '../persistence/status-events.ts';
import type { ParsedStatus } from '../whatsapp/webhook-payload.ts';
import { withinDeadline } from './commit-deadline.ts';
import { InvalidPayloadError, StoreUnavailableError } from './http-errors.ts';
import type { InboundMetrics } from './inbound-metrics.ts';
import { storableText } from './storable-json.ts';

/** A parsed delivery status and the workspace its phone number belongs to. */
export interface RoutedStatus {
  workspaceId: string;
  status: ParsedStatus;
}

export interface StatusRecorder {
  /**
   * Moves each named outbound message forward (never back), and holds a status whose wamid no message has yet
   * until the sender stores it. Each advance leaves a session event for the live inbox, and a `failed` its
   * session a failure notice, in the same commit: the answer does not wait for the session. Throws StoreUnavailableError when the database failed (or did not answer
   * within the deadline), so Meta redelivers the statuses.
   */
  record(statuses: readonly RoutedStatus[]): Promise<void>;
}

const DELIVERY_STATUSES: ReadonlySet<string> = new Set<DeliveryStatus>([
  'sent',
  'delivered',
  'read',
  'failed',
]);

function isDeliveryStatus(status: string): status is DeliveryStatus {
  return DELIVERY_STATUSES.has(status);
}

export function createStatusRecorder(options: {
  db: Kysely<Database>;
  clock: Clock;
  metrics: InboundMetrics;
  /** Called after a commit that left failure notices: the notifier tells their sessions. */
  onFailureNotices?(): void;
  /** Called after a commit that moved messages forward: their session events are stored, live inboxes may read. */
  onStatusEvents?: StatusEventsListener;
  /** Statuses not stored within this many milliseconds are answered 503 (a hung database). */
  deadlineMs?: number;
}): StatusRecorder {
  const { db, clock, metrics, onFailureNotices, onStatusEvents, deadlineMs } = options;
  // Concurrent webhooks' statuses share one UPDATE and one commit.
  const advance = createStatusAdvancer(db, onStatusEvents);

  async function store(changes: StatusChange[]): Promise<void> {
    const outcomes = await Promise.all(changes.map(advance));
    const unmatched = changes.filter((_, i) => outcomes[i] === 'unmatched');
    let noticed = changes.some((change, i) => outcomes[i] === 'advanced' && change.status === 'failed');
    if (unmatched.length > 0) {
      await holdStatuses(db, unmatched);
      // The sender may have committed these wamids since the UPDATE above looked for them.
      noticed = (await applyHeldStatuses(db, unmatched, clock.now(), onStatusEvents)) > 0 || noticed;
    }
    for (const outcome of outcomes) {
      metrics.statuses.inc({
        result: outcome === 'advanced' ? 'applied' : outcome === 'unmatched' ? 'held' : 'ignored',
      });
    }
    if (noticed) onFailureNotices?.();
  }

  return {
    async record(statuses) {
      const receivedAt = clock.now();
      const changes: StatusChange[] = [];
      for (const { workspaceId, status } of statuses) {
        if (!isDeliveryStatus(status.status)) {
          metrics.statuses.inc({ result: 'ignored' });
          continue;
        }
        const first = status.errors[0];
        changes.push({
          workspaceId,
          wamid: storableText(status.wamid),
          status: status.status,
          error: first ? { code: first.code, title: storableText(first.title) } : null,
          receivedAt,
        });
      }
      if (changes.length === 0) return;
      await withinDeadline(store(changes), deadlineMs).catch((cause: unknown) => {
        // Refused data is refused again on every redelivery: 400, not a week of Meta's retries.
        if (isDataRefusal(cause)) {
          throw new InvalidPayloadError(
            `the database refused a status of this request (SQLSTATE ${cause.code})`,
            {
              cause,
            },
          );
        }
        throw new StoreUnavailableError(undefined, { cause });
      });
    },
  };
}
