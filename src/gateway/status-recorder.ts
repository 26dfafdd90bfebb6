import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { SessionClient } from '../actors/session-client.ts';
import { createStatusAdvancer, type DeliveryStatus } from '../persistence/message-status.ts';
import type { Database } from '../persistence/schema.ts';
import type { ParsedStatus } from '../whatsapp/webhook-payload.ts';
import { withinDeadline } from './commit-deadline.ts';
import { StoreUnavailableError } from './http-errors.ts';
import type { InboundMetrics } from './inbound-metrics.ts';
import { storableText } from './storable-json.ts';

/** A parsed delivery status and the workspace its phone number belongs to. */
export interface RoutedStatus {
  workspaceId: string;
  status: ParsedStatus;
}

export interface StatusRecorder {
  /**
   * Moves each named outbound message forward (never back) and tells the session of a failure.
   * Throws StoreUnavailableError when the database failed, so Meta redelivers the statuses.
   */
  record(statuses: readonly RoutedStatus[], log: FastifyBaseLogger): Promise<void>;
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
  sessions: SessionClient;
  metrics: InboundMetrics;
  /** A status not stored within this many milliseconds is answered 503 (a hung database). */
  deadlineMs?: number;
}): StatusRecorder {
  const { db, sessions, metrics, deadlineMs } = options;
  // Concurrent webhooks' statuses share one UPDATE and one commit.
  const advance = createStatusAdvancer(db);
  return {
    async record(statuses, log) {
      for (const { workspaceId, status } of statuses) {
        if (!isDeliveryStatus(status.status)) {
          metrics.statuses.inc({ result: 'ignored' });
          continue;
        }
        const wamid = storableText(status.wamid);
        const first = status.errors[0];
        const error = first ? { code: first.code, title: storableText(first.title) } : null;
        const message = await withinDeadline(
          advance({ workspaceId, wamid, status: status.status, error }),
          deadlineMs,
        ).catch((cause: unknown) => {
          throw new StoreUnavailableError(undefined, { cause });
        });
        metrics.statuses.inc({ result: message ? 'applied' : 'ignored' });
        if (!message || status.status !== 'failed') continue;
        // The row already says `failed`; the session records it in its history for whoever reads it. A
        // session that cannot be reached now is not retried: a redelivered status no longer advances.
        const { sessionId, ...address } = message;
        const result = await sessions
          .command(address, {
            type: 'message.status',
            wamid,
            status: 'failed',
            ...(error ? { error } : {}),
            // Only the session that sent it: not the customer's next one under the same key.
            ...(sessionId ? { sessionId } : {}),
          })
          .catch((cause: unknown) => ({ ok: false as const, error: String(cause) }));
        if (!result.ok) {
          log.warn(
            { ...address, wamid, result: result.error },
            'delivery failure not recorded in the session',
          );
        }
      }
    },
  };
}
