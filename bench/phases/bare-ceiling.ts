import { join } from 'node:path';
import type { BusinessNumber } from '../load/customers.ts';
import { newWamid, textMessagesBody } from '../load/payloads.ts';
import { offerRaw, type SignedBody, type StepResult, stepHolds, stepResult } from '../load/rate-steps.ts';
import { WebhookSender } from '../load/webhook-sender.ts';
import { freePort, startServerProcess } from '../services/child-process.ts';
import type { Progress } from '../support/progress.ts';

export interface BareCeilingResult {
  steps: (StepResult & { holds: boolean; cpu: number })[];
  /** The highest request rate that held (ack p99 within the bound, the rate really offered). */
  ceiling: number;
}

/** The bare signature-checking route, loaded the same way as the engine: this machine's ceiling. */
export async function measureBareCeiling(options: {
  numbers: BusinessNumber[];
  appSecret: string;
  rates: number[];
  ms: number;
  ackBoundMs: number;
  connections: number;
  logDir: string;
  progress: Progress;
}): Promise<BareCeilingResult> {
  const port = await freePort();
  const server = await startServerProcess({
    nodeArgs: ['--import', 'tsx', join(import.meta.dirname, '../services/bare-route.ts')],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      WHATSAPP_APP_SECRET: options.appSecret,
    },
    port,
    readyPath: '/readyz',
    logFile: join(options.logDir, 'bare-route.log'),
  });
  const sender = new WebhookSender(server.origin, {
    appSecret: options.appSecret,
    connections: options.connections,
  });
  // The same payloads as the engine gets: one text message each, signed.
  const bodies: SignedBody[] = Array.from({ length: 2_000 }, (_, i) => {
    const number = options.numbers[i % options.numbers.length]!;
    const waId = `1777${String(i).padStart(8, '0')}`;
    const conversation = { ...number, waId, name: `Customer ${i}` };
    const body = textMessagesBody(
      conversation,
      [{ wamid: newWamid(waId), text: number.phrasebook.questions[0]! }],
      Date.now(),
    );
    return { body, signature: sender.sign(body) };
  });
  const steps: BareCeilingResult['steps'] = [];
  try {
    // JIT warm-up, not recorded: the engine's runs have their warm-up phase too.
    await offerRaw(sender, bodies, options.rates[0]!, 2_000, 'bare-warmup');
    for (const rate of options.rates) {
      const cpuBefore = server.cpuSeconds();
      const stats = await offerRaw(sender, bodies, rate, options.ms, `bare-${rate}`, (live) =>
        options.progress.update(
          `bare route: ${Math.round(live.webhooks / live.seconds)} req/s (offered ${rate}), ack p99 ${live.ack.percentile(99).toFixed(1)} ms`,
        ),
      );
      const step = stepResult(stats);
      const holds = stepHolds(step, options.ackBoundMs);
      steps.push({
        ...step,
        holds,
        cpu: Math.round(((server.cpuSeconds() - cpuBefore) / stats.seconds) * 100) / 100,
      });
      options.progress.log(
        `bare route ${rate} req/s: achieved ${step.requestsPerSecond}, ack p50/p99 ${step.ackP50}/${step.ackP99} ms${holds ? '' : ' (broke)'}`,
      );
      if (!holds) break;
    }
  } finally {
    await sender.close();
    await server.stop();
  }
  const held = steps.filter((step) => step.holds);
  return { steps, ceiling: Math.max(0, ...held.map((step) => step.requestsPerSecond)) };
}
