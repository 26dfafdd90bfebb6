import { setTimeout as sleep } from 'node:timers/promises';
import type { ReceivedReply } from '../services/fake-graph-api.ts';
import { type Customer, nextBurst } from './customers.ts';
import { newWamid, statusBody, textMessagesBody } from './payloads.ts';
import { PhaseStats } from './phase-stats.ts';
import { zipfSampler } from './random.ts';
import type { WebhookSender } from './webhook-sender.ts';

export interface TrafficOptions {
  customers: Customer[];
  sender: WebhookSender;
  random: () => number;
  /** Zipf exponent of how often each customer writes. */
  skew: number;
  /** Share of webhooks Meta delivers twice. */
  duplicateShare: number;
  /** Share of replies whose delivered/read statuses come back, and of those, the share that arrive read-first. */
  statusShare: number;
  reorderedShare: number;
  /** Share of multi-line bursts Meta batches into one webhook (the rest arrive as one webhook per line). */
  batchedBurstShare: number;
  /**
   * How long a customer reads a reply before writing again, drawn in this range. At least Meta's pair rate
   * (one message per 6 s to a customer, after a burst of three), or the engine's pacing, not its speed, would
   * set the reply times.
   */
  thinkMs: { min: number; max: number };
}

/** An inbound message the bench sent: what the reply audit and the end-to-end latency need. */
export interface SentMessage {
  customer: Customer;
  /** performance.now() when its first delivery was due. */
  dueAt: number;
  /** Acknowledged 200 at least once: the engine promised to act on it. */
  accepted: boolean;
  /** The phase it was sent in: end-to-end latency is reported per phase. */
  phase: string;
}

const MAX_DELIVERY_ATTEMPTS = 6;
const RETRY_DELAY_MS = 500;

/**
 * Customers writing to the engine. Each customer waits for a reply, and reads it, before writing again
 * (people do), while the offered rate across customers is held open-loop: slots come at the rate asked for,
 * each taken by a customer drawn Zipf-wise among those free to write. On top: duplicate deliveries, and delivered/read
 * statuses for the replies the fake Graph API issued, some read-before-delivered.
 */
export class Traffic {
  readonly messages = new Map<string, SentMessage>();
  /** Reply wamids whose `read` status the engine acknowledged: they must end `read`. */
  readonly readAcknowledged = new Set<string>();
  stats = new PhaseStats('idle');
  replies = 0;
  repliesToIdleCustomers = 0;
  #timers = 0;
  readonly #options: TrafficOptions;
  readonly #zipf: () => number;
  readonly #byKey: Map<string, Customer>;

  constructor(options: TrafficOptions) {
    this.#options = options;
    this.#zipf = zipfSampler(options.customers.length, options.skew, options.random);
    this.#byKey = new Map(
      options.customers.map((c) => [keyOf(c.conversation.phoneNumberId, c.conversation.waId), c]),
    );
  }

  get waiting(): number {
    return this.#options.customers.reduce(
      (count, customer) => count + (customer.state === 'waiting' ? 1 : 0),
      0,
    );
  }

  /** Offers `rate` customer messages per second for `durationMs`, into a phase of its own. */
  async offer(name: string, rate: number, durationMs: number, onTick?: () => void): Promise<PhaseStats> {
    const stats = new PhaseStats(name);
    stats.offeredRate = rate;
    this.stats = stats;
    const started = performance.now();
    let lastTick = started;
    while (performance.now() - started < durationMs) {
      const now = performance.now();
      const due = (rate * (now - started)) / 1000;
      while (stats.messages < due) {
        const customer = this.#pickIdleCustomer();
        if (!customer) {
          stats.starved++;
          break;
        }
        this.#sendBurst(customer, stats, started + (stats.messages / rate) * 1000);
      }
      if (now - lastTick > 250) {
        onTick?.();
        lastTick = now;
      }
      await sleep(1);
    }
    stats.end();
    this.stats = new PhaseStats('idle');
    return stats;
  }

  /** Waits until every burst is answered and every scheduled delivery is done; false on timeout. */
  async drain(timeoutMs: number, onTick?: () => void): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.waiting === 0 && this.#timers === 0 && this.#options.sender.inFlight === 0) return true;
      onTick?.();
      await sleep(50);
    }
    return false;
  }

  /** The fake Graph API accepted a message: a customer got a reply. */
  onReply(reply: ReceivedReply): void {
    this.replies++;
    const customer = this.#byKey.get(keyOf(reply.phoneNumberId, reply.to));
    if (!customer) return;
    if (customer.state !== 'waiting' || customer.replied) this.repliesToIdleCustomers++;
    if (customer.state === 'waiting' && !customer.replied) {
      customer.replied = true;
      const { min, max } = this.#options.thinkMs;
      customer.thinksUntil = reply.at + min + this.#options.random() * (max - min);
      this.stats.firstReply.add(reply.at - customer.burstDueAt);
      if (customer.pendingAcks === 0) customer.state = 'idle';
    }
    // Handed to a person (possibly by the second reply to a burst): the AI stays silent from now on, so the
    // customer writes no more in this run.
    if (reply.text === customer.number.handoffMessage) customer.state = 'handed_off';
    this.#maybeSendStatuses(customer, reply.wamid);
  }

  #pickIdleCustomer(): Customer | undefined {
    const { customers, random } = this.#options;
    const now = performance.now();
    const free = (customer: Customer) => customer.state === 'idle' && customer.thinksUntil <= now;
    for (let attempt = 0; attempt < 3; attempt++) {
      const customer = customers[this.#zipf()]!;
      if (free(customer)) return customer;
    }
    // The talkative ones are busy: anyone free will do, so the offered rate holds.
    for (let attempt = 0; attempt < 128; attempt++) {
      const customer = customers[Math.floor(random() * customers.length)]!;
      if (free(customer)) return customer;
    }
    return undefined;
  }

  #sendBurst(customer: Customer, stats: PhaseStats, dueAt: number): void {
    const { random, batchedBurstShare } = this.#options;
    const texts = nextBurst(customer, random);
    const lines = texts.map((text) => ({ wamid: newWamid(customer.conversation.waId), text }));
    customer.state = 'waiting';
    customer.replied = false;
    customer.burstDueAt = dueAt;
    stats.bursts++;
    stats.messages += lines.length;
    for (const line of lines)
      this.messages.set(line.wamid, { customer, dueAt, accepted: false, phase: stats.name });
    if (lines.length === 1 || random() < batchedBurstShare) {
      customer.pendingAcks = 1;
      this.#deliver(textMessagesBody(customer.conversation, lines, Date.now()), stats, {
        dueAt,
        customer,
        wamids: lines.map((line) => line.wamid),
      });
      return;
    }
    // A person typing three short lines: one webhook each, a few milliseconds apart.
    customer.pendingAcks = lines.length;
    let offset = 0;
    for (const line of lines) {
      this.#later(offset, () => {
        const wamidDue = dueAt + offset;
        const entry = this.messages.get(line.wamid);
        if (entry) entry.dueAt = wamidDue;
        this.#deliver(textMessagesBody(customer.conversation, [line], Date.now()), stats, {
          dueAt: wamidDue,
          customer,
          wamids: [line.wamid],
        });
      });
      offset += 5 + Math.floor(random() * 35);
    }
  }

  #maybeSendStatuses(customer: Customer, wamid: string): void {
    const { random, statusShare, reorderedShare } = this.#options;
    if (random() >= statusShare) return;
    const delivered = 30 + random() * 270;
    const read = delivered + 100 + random() * 1_200;
    const readFirst = random() < reorderedShare;
    const stats = this.stats;
    this.#later(readFirst ? read : delivered, () => {
      this.#deliver(statusBody(customer.conversation, wamid, 'delivered', Date.now()), stats, {});
    });
    this.#later(readFirst ? delivered : read, () => {
      this.#deliver(statusBody(customer.conversation, wamid, 'read', Date.now()), stats, { readOf: wamid });
    });
  }

  #deliver(
    body: Buffer,
    stats: PhaseStats,
    about: { dueAt?: number; customer?: Customer; wamids?: string[]; readOf?: string },
    attempt = 1,
    signature = this.#options.sender.sign(body),
  ): void {
    const dueAt = about.dueAt ?? performance.now();
    if (attempt === 1) {
      stats.webhooks++;
      if (!about.wamids) stats.statuses++;
    }
    void this.#options.sender.post(body, signature, dueAt).then(({ status, latencyMs }) => {
      stats.ack.add(latencyMs);
      if (status !== 200) stats.recordFailure(status);
      if ((status === 0 || status >= 500) && attempt < MAX_DELIVERY_ATTEMPTS) {
        // As Meta does: a failed delivery is retried later, the same bytes with the same signature.
        stats.retries++;
        this.#later(RETRY_DELAY_MS * attempt, () =>
          this.#deliver(body, stats, { ...about, dueAt: undefined }, attempt + 1, signature),
        );
        return;
      }
      if (status === 200) {
        for (const wamid of about.wamids ?? []) this.messages.get(wamid)!.accepted = true;
        if (about.readOf) this.readAcknowledged.add(about.readOf);
      }
      if (about.customer) this.#acknowledged(about.customer);
      if (attempt === 1 && this.#options.random() < this.#options.duplicateShare) {
        stats.duplicates++;
        this.#later(20 + this.#options.random() * 1_500, () => {
          void this.#options.sender.post(body, signature).then((duplicate) => {
            stats.ack.add(duplicate.latencyMs);
            if (duplicate.status !== 200) stats.recordFailure(duplicate.status);
          });
        });
      }
    });
  }

  #acknowledged(customer: Customer): void {
    customer.pendingAcks--;
    if (customer.pendingAcks === 0 && customer.replied && customer.state === 'waiting')
      customer.state = 'idle';
  }

  /** A deferred delivery; drain() waits for every one of them. */
  #later(ms: number, work: () => void): void {
    this.#timers++;
    setTimeout(() => {
      this.#timers--;
      work();
    }, ms);
  }
}

function keyOf(phoneNumberId: string, waId: string): string {
  return `${phoneNumberId}:${waId}`;
}
