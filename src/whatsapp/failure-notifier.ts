import type { Logger } from 'pino';
import type { SessionClient } from '../actors/session-client.ts';
import type { Clock, TimerHandle } from '../clock/clock.ts';
import type { ClaimedNotice, FailureNoticeStore } from '../persistence/failure-notices.ts';
import { backoffDelay } from './retry-policy.ts';

export interface FailureNotifierOptions {
  store: FailureNoticeStore;
  sessions: Pick<SessionClient, 'command'>;
  clock: Clock;
  logger: Logger;
  /** Looks for due notices this often besides being woken: retries, other nodes' notices, lapsed leases. */
  pollIntervalMs: number;
  /** A notice no session took within this long is dropped: the message row says `failed` all the same. */
  giveUpAfterMs?: number;
  /** Longer than telling a session may take (SessionClient.command waits 5 s). */
  leaseMs?: number;
}

const BATCH = 64;

/**
 * Tells sessions of their messages that failed for good, from the notices written in the same transaction
 * as the failure (a `failed` status, a Graph API error), so neither Meta's 200 nor the sender waits on a
 * session, and a session unreachable now is told later. A session that took it, or that has closed, ends the
 * notice. At least once: a session that took a notice whose answer was lost is told again, and keeps one
 * entry per failed message (docs/decisions/0010-failure-notices-and-held-statuses.md).
 */
export class FailureNotifier {
  readonly #options: FailureNotifierOptions;
  #active = false;
  #again = false;
  #running: Promise<void> | undefined;
  #timer: TimerHandle | undefined;

  constructor(options: FailureNotifierOptions) {
    this.#options = options;
  }

  start(): void {
    this.#active = true;
    this.wake();
  }

  /** Notices may be due (a failure was just committed): look now. */
  wake(): void {
    this.#again = true;
    if (!this.#active || this.#running) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      if (this.#again) this.wake();
      else this.#arm();
    });
  }

  /** Resolves when nothing is being claimed or told. */
  async settle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async stop(): Promise<void> {
    this.#active = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.settle();
  }

  async #run(): Promise<void> {
    while (this.#again && this.#active) {
      this.#again = false;
      const { store, clock, logger, leaseMs = 30_000 } = this.#options;
      const now = clock.now();
      let notices: ClaimedNotice[];
      try {
        notices = await store.claimDue({ now, leaseUntil: now + leaseMs, limit: BATCH });
      } catch (error) {
        // The database is away: the poll tries again.
        logger.error({ err: error }, 'could not claim failure notices');
        return;
      }
      if (notices.length === BATCH) this.#again = true;
      await Promise.all(notices.map((notice) => this.#tell(notice)));
    }
  }

  async #tell(notice: ClaimedNotice): Promise<void> {
    const { store, sessions, clock, logger, giveUpAfterMs = 24 * 60 * 60 * 1_000 } = this.#options;
    const { messageId, sessionId, wamid, error, workspaceId, sessionKey, partition } = notice;
    const result = await sessions
      .command(
        { workspaceId, sessionKey, partition },
        { type: 'message.status', sessionId, wamid, status: 'failed', error },
      )
      .catch((cause: unknown) => ({ ok: false as const, error: String(cause) }));
    try {
      // Taken; or the session has closed (not found) or cannot take it: either way, nothing more to tell.
      if (result.ok || result.error === 'not_found' || result.error === 'rejected') {
        await store.remove(notice);
        return;
      }
      if (clock.now() - notice.createdAt >= giveUpAfterMs) {
        logger.warn(
          { workspaceId, sessionId, messageId, result: result.error },
          'delivery failure never reached its session: given up (the message row says failed)',
        );
        await store.remove(notice);
        return;
      }
      await store.retryAt(
        notice,
        clock.now() + backoffDelay(notice.attempt, { baseMs: 1_000, maxMs: 300_000 }),
      );
    } catch (cause) {
      // The lease lapses and the notice is claimed again.
      logger.error({ err: cause, messageId }, 'failure notice not updated');
    }
  }

  #arm(): void {
    if (!this.#active || this.#timer) return;
    this.#timer = this.#options.clock.setTimer(() => {
      this.#timer = undefined;
      this.wake();
    }, this.#options.pollIntervalMs);
  }
}
