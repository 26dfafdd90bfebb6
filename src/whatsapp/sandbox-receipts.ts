import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock/clock.ts';
import { advanceMessageStatus } from '../persistence/message-status.ts';
import type { Database } from '../persistence/schema.ts';
import type { StatusEventsListener } from '../persistence/status-events.ts';

/** Plays the customer's phone for sandbox numbers: a message sent to the sandbox is delivered, then read. */
export interface SandboxReceipts {
  /** After `delayMs` the message turns delivered, after twice that read. */
  schedule(workspaceId: string, wamid: string): void;
  /** Resolves when every receipt that fell due is stored. */
  settle(): Promise<void>;
  /** Cancels the receipts still to come: they are cosmetic, nothing waits for them. */
  stop(): Promise<void>;
}

export function createSandboxReceipts(options: {
  db: Kysely<Database>;
  clock: Clock;
  logger: Logger;
  delayMs: number;
  /** Called after a receipt moved a message forward: its session event is there for live inboxes. */
  onStatusEvents?: StatusEventsListener;
}): SandboxReceipts {
  const { db, clock, logger, delayMs, onStatusEvents } = options;
  const timers = new Set<TimerHandle>();
  const writes = new Set<Promise<void>>();

  const receipt = (workspaceId: string, wamid: string, status: 'delivered' | 'read', after: number) => {
    const timer = clock.setTimer(() => {
      timers.delete(timer);
      // The same forward-only update as Meta's status webhooks: a receipt never moves a message backwards.
      const write = advanceMessageStatus(
        db,
        { workspaceId, wamid, status, error: null, receivedAt: clock.now() },
        onStatusEvents,
      )
        .then(() => undefined)
        .catch((error: unknown) =>
          logger.warn({ err: error, workspaceId, wamid }, 'sandbox receipt not stored'),
        )
        .finally(() => writes.delete(write));
      writes.add(write);
    }, after);
    timers.add(timer);
  };

  return {
    schedule(workspaceId, wamid) {
      receipt(workspaceId, wamid, 'delivered', delayMs);
      receipt(workspaceId, wamid, 'read', 2 * delayMs);
    },
    async settle() {
      await Promise.all(writes);
    },
    async stop() {
      for (const timer of timers) timer.cancel();
      timers.clear();
      await Promise.all(writes);
    },
  };
}
