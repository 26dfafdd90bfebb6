import { Samples } from '../support/samples.ts';

/** What one phase of load offered and what came back; requests count in the phase they were due in. */
export class PhaseStats {
  readonly ack = new Samples();
  /** From a burst's first message being due to the first reply reaching the Graph API: the live view. */
  readonly firstReply = new Samples();
  startedAt = performance.now();
  endedAt = Number.NaN;
  offeredRate = 0;
  /** Customer messages in webhooks sent for the first time. */
  messages = 0;
  bursts = 0;
  webhooks = 0;
  duplicates = 0;
  statuses = 0;
  /** Deliveries Meta would retry: 5xx or no answer. */
  retries = 0;
  /** Answers other than 200 (and no answer, as 0), by status. */
  readonly failures = new Map<number, number>();
  /** Slots when every customer picked was still waiting for a reply: the offered rate was not reached. */
  starved = 0;

  constructor(readonly name: string) {}

  get seconds(): number {
    const end = Number.isNaN(this.endedAt) ? performance.now() : this.endedAt;
    return (end - this.startedAt) / 1000;
  }

  recordFailure(status: number): void {
    this.failures.set(status, (this.failures.get(status) ?? 0) + 1);
  }

  end(): void {
    this.endedAt = performance.now();
  }
}
