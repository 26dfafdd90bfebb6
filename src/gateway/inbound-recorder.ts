import type { InboundArrival, SessionClient } from '../actors/session-client.ts';
import type { Clock } from '../clock/clock.ts';
import { isDataRefusal } from '../persistence/database.ts';
import type { ParsedInboundMessage } from '../whatsapp/webhook-payload.ts';
import { GroupCommit } from './group-commit.ts';
import { InvalidPayloadError, StoreUnavailableError } from './http-errors.ts';
import type { InboundMetrics } from './inbound-metrics.ts';
import { storableJson, storableText, UnstorableJsonError } from './storable-json.ts';

/** A parsed inbound message and the workspace its phone number belongs to. */
export interface RoutedMessage {
  workspaceId: string;
  message: ParsedInboundMessage;
}

export interface InboundRecorder {
  /**
   * Commits the messages (those the workspace already has are skipped) and resolves only once they are
   * durable. Throws InvalidPayloadError, having recorded nothing, for a message that cannot be stored (found
   * here, or refused by the database), and StoreUnavailableError when the database failed: then nothing was
   * recorded or, for more messages than one insert takes, some parts were, which the redelivery that follows
   * a 503 completes (and for a refusal, the parts before the refused one stay, deduplicated on redelivery).
   */
  record(messages: readonly RoutedMessage[]): Promise<void>;
}

export interface InboundRecorderOptions {
  sessions: SessionClient;
  clock: Clock;
  metrics: InboundMetrics;
  /** A request's messages not committed within this many milliseconds are answered 503 (a hung database). */
  deadlineMs?: number;
}

/**
 * Most messages one insert takes: Postgres binds at most 65,535 parameters per statement, and an inbound row
 * binds 18 (kysely-session-store.ts `toInboundRow`): 18,000 here, room for 3,640 rows.
 */
const MAX_BATCH_SIZE = 1_000;

// The customer's wa_id becomes part of the session key, a NATS subject token: digits, as Meta sends it.
const WA_ID = /^\d{1,32}$/;

/** The one path inbound messages take into the store, for Meta's webhook and the sandbox alike. */
export function createInboundRecorder(options: InboundRecorderOptions): InboundRecorder {
  const { sessions, clock, metrics, deadlineMs } = options;
  const commits = new GroupCommit<InboundArrival>({
    maxBatchSize: MAX_BATCH_SIZE,
    deadlineMs,
    async commit(arrivals) {
      const { inserted, duplicates } = await sessions.recordInbound(arrivals);
      metrics.inboundRecorded.inc(inserted);
      metrics.inboundDuplicates.inc(duplicates);
    },
    onCommit: (messages) => metrics.commitBatchSize.observe(messages),
  });

  return {
    async record(messages) {
      // The gateway's clock, not the database's: staleness is judged by when the message reached us.
      const receivedAt = clock.now();
      const arrivals = messages.map((routed) => toArrival(routed, receivedAt));
      let committed = 0;
      try {
        // More than one insert takes is committed in parts; if one fails the request is answered 503, and
        // Meta's redelivery skips the parts already stored.
        for (; committed < arrivals.length; committed += MAX_BATCH_SIZE) {
          await commits.submit(arrivals.slice(committed, committed + MAX_BATCH_SIZE));
        }
      } catch (error) {
        // Data the database refuses is refused again on every redelivery: a 503 would have Meta retry it for
        // a week. Group commit committed the refused part alone, so none of that part was recorded.
        if (isDataRefusal(error)) {
          throw new InvalidPayloadError(refusalMessage(error, committed), { cause: error });
        }
        throw new StoreUnavailableError(undefined, { cause: error });
      }
    },
  };
}

function refusalMessage(error: Error & { code: string }, committed: number): string {
  const reason = error.message.length > 200 ? `${error.message.slice(0, 197)}...` : error.message;
  const recorded =
    committed === 0 ? 'nothing was recorded' : `only its first ${committed} messages were recorded`;
  return `the database refused a message of this request (SQLSTATE ${error.code}: ${reason}); ${recorded}`;
}

/** Names a message in an error without echoing a hostile, megabyte-long id. */
function nameOf(message: ParsedInboundMessage): string {
  const id = JSON.stringify(message.wamid);
  return `message ${id.length > 60 ? `${id.slice(0, 57)}...` : id}`;
}

function toArrival({ workspaceId, message }: RoutedMessage, receivedAt: number): InboundArrival {
  if (!WA_ID.test(message.customerWaId)) {
    throw new InvalidPayloadError(`${nameOf(message)}: "from" must be a WhatsApp id (digits)`);
  }
  let payload: unknown;
  try {
    payload = storableJson(message.raw);
  } catch (error) {
    if (!(error instanceof UnstorableJsonError)) throw error;
    throw new InvalidPayloadError(`${nameOf(message)}: ${error.message}`);
  }
  return {
    workspaceId,
    phoneNumberId: message.phoneNumberId,
    customerWaId: message.customerWaId,
    wamid: storableText(message.wamid),
    type: storableText(message.type),
    body: nullableText(message.text),
    customerName: nullableText(message.customerName),
    payload,
    sentAt: message.sentAt,
    receivedAt,
    // Stored in columns of their own: what a reply, an ad or a tapped button refers to, without Meta's object.
    context: message.context && {
      ...message.context,
      from: nullableText(message.context.from),
      id: nullableText(message.context.id),
    },
    // Inside `raw`, which passed storableJson above: deep enough to store.
    referral: message.referral && (storableJson(message.referral) as Record<string, unknown>),
    interactiveReplyId: nullableText(message.interactiveReplyId),
    mediaId: nullableText(message.mediaId),
  };
}

function nullableText(text: string | null): string | null {
  return text === null ? null : storableText(text);
}
