import { setTimeout as sleep } from 'node:timers/promises';
import { PhaseStats } from './phase-stats.ts';
import type { WebhookSender } from './webhook-sender.ts';

/** A signed webhook ready to post: the bare route's load, where nothing answers back. */
export interface SignedBody {
  body: Buffer;
  signature: string;
}

/** Posts these bodies round-robin at `rate` requests per second for `durationMs`, open loop. */
export async function offerRaw(
  sender: WebhookSender,
  bodies: readonly SignedBody[],
  rate: number,
  durationMs: number,
  name: string,
  onTick?: (stats: PhaseStats) => void,
): Promise<PhaseStats> {
  const stats = new PhaseStats(name);
  stats.offeredRate = rate;
  const started = performance.now();
  let lastTick = started;
  let next = 0;
  while (performance.now() - started < durationMs) {
    const now = performance.now();
    const due = (rate * (now - started)) / 1000;
    while (stats.webhooks < due) {
      const { body, signature } = bodies[next++ % bodies.length]!;
      const dueAt = started + (stats.webhooks / rate) * 1000;
      stats.webhooks++;
      stats.messages++;
      void sender.post(body, signature, dueAt).then(({ status, latencyMs }) => {
        stats.ack.add(latencyMs);
        if (status !== 200) stats.recordFailure(status);
      });
    }
    if (now - lastTick > 250) {
      onTick?.(stats);
      lastTick = now;
    }
    await sleep(1);
  }
  stats.end();
  while (sender.inFlight > 0) await sleep(10);
  return stats;
}

/** What one step of offered load showed. */
export interface StepResult {
  offered: number;
  /** Customer messages per second actually sent. */
  achieved: number;
  /** Webhook requests per second actually sent (messages, statuses, duplicates). */
  requestsPerSecond: number;
  ackP50: number;
  ackP99: number;
  ackP999: number;
  failures: number;
}

export function stepResult(stats: PhaseStats): StepResult {
  const seconds = stats.seconds;
  const failures = [...stats.failures.values()].reduce((sum, count) => sum + count, 0);
  return {
    offered: stats.offeredRate,
    achieved: round1(stats.messages / seconds),
    requestsPerSecond: round1((stats.webhooks + stats.duplicates + stats.retries) / seconds),
    ackP50: round1(stats.ack.percentile(50)),
    ackP99: round1(stats.ack.percentile(99)),
    ackP999: round1(stats.ack.percentile(99.9)),
    failures,
  };
}

/** A step holds when the rate was really offered and acknowledgements stayed under the bound. */
export function stepHolds(step: StepResult, ackP99BoundMs: number): boolean {
  return step.achieved >= 0.95 * step.offered && step.ackP99 <= ackP99BoundMs && step.failures === 0;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
