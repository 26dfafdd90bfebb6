import type { Clock } from '../clock/clock.ts';
import { createPacer } from './rate-limiter.ts';

interface Rate {
  ratePerSecond: number;
  burst: number;
}

export interface DeliveryPacing {
  /**
   * When this outbox row may go to Meta: `limit` null means now, otherwise the row waits until `at` for the
   * limit named. Slots booked for a row that must wait stay booked for it, so when it comes back at `at` it
   * goes out instead of queueing again behind its own reservation.
   */
  slotFor(row: { id: string; phoneNumberId: string; customerWaId: string }): {
    at: number;
    limit: 'recipient' | 'phone_number' | null;
  };
  /** The row is done (sent, failed or refused): drop whatever it had booked. */
  forget(id: string): void;
}

// Bookings of rows that never came back (another sender took them) are dropped once the map outgrows this.
const MIN_SWEEP_SIZE = 1_024;

/**
 * Meta's limits in front of the Graph API: each phone number's throughput and each (number, customer) pair's
 * rate. Pacing is per process: several senders on one number each keep to the configured rate, so a cluster
 * divides Meta's rate among its nodes (docs/decisions/0005-outbox-delivery.md).
 */
export function createDeliveryPacing(options: {
  clock: Clock;
  phoneNumber: Rate;
  recipient: Rate;
  /** A booking older than this is forgotten: its row went to another sender. */
  forgetAfterMs: number;
}): DeliveryPacing {
  const { clock, forgetAfterMs } = options;
  const numbers = createPacer({ ...options.phoneNumber, clock });
  const recipients = createPacer({ ...options.recipient, clock });
  const booked = new Map<string, { recipientAt?: number; numberAt?: number }>();
  let sweepAt = MIN_SWEEP_SIZE;

  const sweep = (now: number) => {
    for (const [id, slots] of booked) {
      if (Math.max(slots.recipientAt ?? 0, slots.numberAt ?? 0) < now - forgetAfterMs) booked.delete(id);
    }
    sweepAt = Math.max(MIN_SWEEP_SIZE, booked.size * 2);
  };

  return {
    slotFor({ id, phoneNumberId, customerWaId }) {
      const now = clock.now();
      const slots = booked.get(id) ?? {};
      booked.set(id, slots);
      if (booked.size > sweepAt) sweep(now);
      // The customer's slot first: a number slot booked while the pair limit holds the row would go unused.
      slots.recipientAt ??= now + recipients.reserve(`${phoneNumberId}:${customerWaId}`);
      if (slots.recipientAt > now) return { at: slots.recipientAt, limit: 'recipient' };
      slots.numberAt ??= now + numbers.reserve(phoneNumberId);
      if (slots.numberAt > now) return { at: slots.numberAt, limit: 'phone_number' };
      booked.delete(id);
      return { at: now, limit: null };
    },
    forget(id) {
      booked.delete(id);
    },
  };
}
