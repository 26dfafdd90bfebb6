import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock/clock.ts';
import { SERVICE_WINDOW_MS } from '../machines/session.ts';
import type { ClaimedDelivery, DeliveryFailure, OutboxStore } from '../persistence/outbox-store.ts';
import type { DeliveryPacing } from './delivery-pacing.ts';
import { type GraphApiClient, GraphApiError, type OutboundMessage } from './graph-api-client.ts';
import type { OutboxMetrics } from './outbox-metrics.ts';
import { type BackoffOptions, backoffDelay } from './retry-policy.ts';
import type { SandboxReceipts } from './sandbox-receipts.ts';
import type { SendingNumber, SendingNumbers } from './sending-numbers.ts';

/** Meta's code for a free-form message outside the customer service window; we refuse it the same way. */
const REENGAGEMENT: DeliveryFailure = {
  code: 131047,
  title: 'Re-engagement message: outside the 24-hour customer service window; send a template',
};

export interface OutboxSenderOptions {
  store: OutboxStore;
  graph: GraphApiClient;
  numbers: SendingNumbers;
  pacing: DeliveryPacing;
  clock: Clock;
  logger: Logger;
  metrics: OutboxMetrics;
  /** Delivered/read ticks for sandbox messages; none when off. */
  receipts?: SandboxReceipts;
  /** Looks for due rows this often besides being woken: rows of other nodes, lapsed leases. */
  pollIntervalMs: number;
  /** Attempts (Graph calls that may have reached Meta) before a message is failed. */
  maxAttempts: number;
  /** How long a claimed row stays this sender's: longer than a Graph call may take, plus the mark. */
  leaseMs?: number;
  /** Rows being delivered at once. */
  maxInFlight?: number;
  /** A pacing wait up to this long is waited out in memory rather than by putting the row back (default 0). */
  holdInMemoryMs?: number;
  backoff?: Omit<BackoffOptions, 'retryAfterMs'>;
}

/**
 * Delivers the outbox: claims due rows, sends each to Meta (production numbers) or straight into the sandbox
 * outbox (sandbox numbers, which never call the Graph API), and records the outcome on the message. Retryable
 * Graph errors come back later with backoff; other errors fail the message, and its session is told through a
 * failure notice (failure-notifier.ts).
 *
 * A claimed row is leased, not locked: no connection is held across the Graph call. If the process dies
 * between Meta's answer and the commit that marks the row sent, the lease lapses and the row is sent again;
 * `botrelic_outbox_mark_sent_seconds` measures that window (docs/decisions/0005-outbox-delivery.md).
 */
export class OutboxSender {
  readonly #options: OutboxSenderOptions;
  readonly #leaseMs: number;
  readonly #maxInFlight: number;
  readonly #inFlight = new Set<Promise<void>>();
  /** Times this sender put rows back to: it wakes at the earliest rather than at the next poll. */
  readonly #wakeTimes: number[] = [];
  /** Ends the in-memory pacing waits, so stopping never waits on a clock that may not move (a manual one). */
  readonly #holds = new Set<() => void>();
  #active = false;
  #passes: Promise<void> | undefined;
  #again = false;
  #lastClaimAt = Number.NEGATIVE_INFINITY;
  #timer: { handle: TimerHandle; at: number } | undefined;

  constructor(options: OutboxSenderOptions) {
    this.#options = options;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#maxInFlight = options.maxInFlight ?? 64;
  }

  /** Starts delivering, beginning with whatever the outbox already holds. */
  start(): void {
    this.#active = true;
    this.wake();
  }

  /** New rows may be due (a session committed outbound intents, a send finished): look now. */
  wake(): void {
    this.#again = true;
    if (!this.#active || this.#passes) return;
    this.#passes = this.#runPasses().finally(() => {
      this.#passes = undefined;
      // A wake that came in while the last pass was ending.
      if (this.#again) this.wake();
      else this.#armTimer();
    });
  }

  /** Resolves when nothing is being claimed or delivered (rows waiting for a later time do not count). */
  async settle(): Promise<void> {
    while (this.#passes || this.#inFlight.size > 0) {
      await this.#passes;
      await Promise.all(this.#inFlight);
    }
    await this.#options.receipts?.settle();
  }

  /**
   * Graceful: takes no more rows and lets every delivery in flight finish and record its outcome; one still
   * waiting for its pacing slot goes back to the table instead.
   */
  async stop(): Promise<void> {
    this.#active = false;
    this.#timer?.handle.cancel();
    this.#timer = undefined;
    for (const release of [...this.#holds]) release();
    await this.settle();
    await this.#options.receipts?.stop();
  }

  async #runPasses(): Promise<void> {
    while (this.#again && this.#active) {
      this.#again = false;
      await this.#pass();
    }
  }

  async #pass(): Promise<void> {
    const capacity = this.#maxInFlight - this.#inFlight.size;
    // Full: the next delivery to finish wakes the sender again.
    if (capacity <= 0) return;
    const now = this.#options.clock.now();
    let rows: ClaimedDelivery[];
    try {
      rows = await this.#options.store.claimDue({ now, leaseUntil: now + this.#leaseMs, limit: capacity });
    } catch (error) {
      // The database is away: the poll timer tries again.
      this.#options.logger.error({ err: error }, 'could not claim outbox rows');
      return;
    }
    this.#lastClaimAt = now;
    // In id order, so that pacing books slots in the order the messages were written.
    for (const row of rows) this.#track(row);
    if (rows.length === capacity) this.#again = true;
  }

  #track(row: ClaimedDelivery): void {
    const delivery: Promise<void> = this.#deliver(row)
      .catch((error: unknown) => {
        // As if the process had died here: the row keeps its lease and is claimed again when it lapses.
        this.#options.logger.error(
          { err: error, outboxId: row.id, messageId: row.messageId, sessionId: row.sessionId },
          'delivery interrupted; the row is retried when its lease lapses',
        );
      })
      .finally(() => {
        this.#inFlight.delete(delivery);
        // The conversation's next message may be due now that this one is done.
        this.wake();
      });
    this.#inFlight.add(delivery);
  }

  async #deliver(row: ClaimedDelivery): Promise<void> {
    const { numbers, clock } = this.#options;
    const number = numbers.lookup(row.phoneNumberId);
    if (number?.workspaceId !== row.workspaceId) {
      return this.#refuse(row, 'unknown', {
        code: null,
        title: `Phone number ${row.phoneNumberId} is not configured for this workspace`,
      });
    }
    const refusal = this.#refusal(row, clock.now());
    if (refusal) return this.#refuse(row, number.mode, refusal);
    if (number.mode === 'sandbox') return this.#deliverToSandbox(row);
    const slot = await this.#slotFor(row);
    if (slot.limit !== null) {
      // Not an attempt: nothing went to Meta. The row waits in the table, not in memory.
      this.#options.metrics.paced.inc({ limit: slot.limit });
      if (await this.#options.store.reschedule(row, slot.at, false)) this.#wakeAt(slot.at);
      return;
    }
    return this.#deliverToMeta(row, number);
  }

  /**
   * The row's pacing slot. One that is only a few milliseconds off (a number's rate spaces its sends by a
   * millisecond or two at Meta's higher tiers) is waited for here: through the table, the wait would cost a
   * write, a wake-up and another claim.
   */
  async #slotFor(row: ClaimedDelivery): Promise<ReturnType<DeliveryPacing['slotFor']>> {
    const { pacing, clock, holdInMemoryMs = 0, metrics } = this.#options;
    for (;;) {
      const slot = pacing.slotFor(row);
      const wait = slot.at - clock.now();
      // Stopping: a row not yet due goes back to the table (its attempt given back) rather than waiting here.
      if (slot.limit === null || wait > holdInMemoryMs || !this.#active) return slot;
      metrics.paced.inc({ limit: slot.limit });
      await new Promise<void>((resolve) => {
        const release = () => {
          timer.cancel();
          this.#holds.delete(release);
          resolve();
        };
        const timer = clock.setTimer(release, wait);
        this.#holds.add(release);
      });
    }
  }

  /** Why this row must not be sent at all, decided before anything reaches Meta. */
  #refusal(row: ClaimedDelivery, now: number): DeliveryFailure | undefined {
    const { maxAttempts } = this.#options;
    if (row.attempt > maxAttempts) {
      // Every attempt so far ended without an outcome (crashes, lapsed leases): stop sending it.
      return { code: null, title: `Delivery abandoned: ${maxAttempts} attempts did not complete` };
    }
    const windowOpen =
      row.lastCustomerMessageAt !== null && now < row.lastCustomerMessageAt + SERVICE_WINDOW_MS;
    return row.type === 'template' || windowOpen ? undefined : REENGAGEMENT;
  }

  #refuse(row: ClaimedDelivery, mode: string, failure: DeliveryFailure): Promise<void> {
    this.#options.pacing.forget(row.id);
    return this.#fail(row, mode, failure);
  }

  async #deliverToSandbox(row: ClaimedDelivery): Promise<void> {
    const { store, clock, metrics, receipts } = this.#options;
    const wamid = `wamid.sandbox.${randomUUID()}`;
    if (!(await this.#marked(store.markSent(row, wamid, clock.now()), row))) return;
    metrics.sent.inc({ mode: 'sandbox' });
    metrics.deliverySeconds.observe({ mode: 'sandbox' }, (clock.now() - row.createdAt) / 1_000);
    receipts?.schedule(row.workspaceId, wamid);
  }

  async #deliverToMeta(row: ClaimedDelivery, number: SendingNumber & { mode: 'production' }): Promise<void> {
    const { graph, store, clock, metrics } = this.#options;
    const started = performance.now();
    let wamid: string;
    try {
      ({ wamid } = await graph.sendMessage({
        phoneNumberId: row.phoneNumberId,
        accessToken: number.accessToken,
        to: row.customerWaId,
        // Written by the actor host from the session's send action: already Meta's message object.
        message: row.payload as OutboundMessage,
      }));
    } catch (error) {
      if (!(error instanceof GraphApiError)) throw error;
      metrics.sendSeconds.observe({ outcome: 'error' }, (performance.now() - started) / 1_000);
      return this.#afterGraphError(row, error);
    }
    const answered = performance.now();
    metrics.sendSeconds.observe({ outcome: 'sent' }, (answered - started) / 1_000);
    // Meta has the message from here on; until the commit below lands, a crash means sending it again.
    const marked = await this.#marked(store.markSent(row, wamid, clock.now()), row);
    metrics.markSentSeconds.observe((performance.now() - answered) / 1_000);
    if (!marked) return;
    metrics.sent.inc({ mode: 'production' });
    metrics.deliverySeconds.observe({ mode: 'production' }, (clock.now() - row.createdAt) / 1_000);
  }

  async #afterGraphError(row: ClaimedDelivery, error: GraphApiError): Promise<void> {
    const { store, clock, metrics, maxAttempts, logger } = this.#options;
    const failure = { code: error.code ?? null, title: error.title };
    if (!error.retryable || row.attempt >= maxAttempts) return this.#fail(row, 'production', failure);
    const delayMs = backoffDelay(row.attempt, { ...this.#options.backoff, retryAfterMs: error.retryAfterMs });
    const at = clock.now() + delayMs;
    if (!(await this.#marked(store.reschedule(row, at, true), row))) return;
    metrics.retried.inc({ mode: 'production' });
    logger.warn(
      { outboxId: row.id, status: error.status, code: error.code, attempt: row.attempt, delayMs },
      `Graph API send failed, retrying: ${error.title}`,
    );
    this.#wakeAt(at);
  }

  /** Fails the message; the store leaves its session a failure notice in the same transaction. */
  async #fail(row: ClaimedDelivery, mode: string, failure: DeliveryFailure): Promise<void> {
    const { store, clock, metrics, logger } = this.#options;
    if (!(await this.#marked(store.markFailed(row, failure, clock.now()), row))) return;
    metrics.failed.inc({ mode, code: failure.code === null ? 'none' : String(failure.code) });
    logger.warn(
      { outboxId: row.id, messageId: row.messageId, sessionId: row.sessionId, code: failure.code },
      `outbound message failed: ${failure.title}`,
    );
  }

  /** A write that found its lease lapsed: another sender has the row now and records the outcome. */
  async #marked(write: Promise<boolean>, row: ClaimedDelivery): Promise<boolean> {
    if (await write) return true;
    this.#options.metrics.leaseLost.inc();
    this.#options.logger.warn({ outboxId: row.id }, 'outbox lease lapsed before the outcome was recorded');
    return false;
  }

  #wakeAt(at: number): void {
    if (at <= this.#options.clock.now()) {
      this.wake();
      return;
    }
    const index = this.#wakeTimes.findIndex((time) => time > at);
    this.#wakeTimes.splice(index === -1 ? this.#wakeTimes.length : index, 0, at);
    if (!this.#passes) this.#armTimer();
  }

  /** The next look: the earliest row this sender put back, or the poll interval, whichever comes first. */
  #armTimer(): void {
    if (!this.#active) return;
    const now = this.#options.clock.now();
    // A time the last claim already covered needs no wake of its own.
    while (this.#wakeTimes.length > 0 && this.#wakeTimes[0]! <= this.#lastClaimAt) this.#wakeTimes.shift();
    const at = Math.min(now + this.#options.pollIntervalMs, this.#wakeTimes[0] ?? Number.POSITIVE_INFINITY);
    if (this.#timer && this.#timer.at <= at) return;
    this.#timer?.handle.cancel();
    const handle = this.#options.clock.setTimer(() => {
      this.#timer = undefined;
      this.wake();
    }, at - now);
    this.#timer = { handle, at };
  }
}
