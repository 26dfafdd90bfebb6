/**
 * Memory per idle live session actor, and rehydration time of passivated ones, measured inside one engine
 * (createEngine, the real store on DATABASE_URL or BOTRELIC_DATA_DIR). Run by the bench as a child with
 * --expose-gc: N sessions each get one customer message and one AI reply and sit idle in `active`; the heap
 * grown by them, after full collections, divided by N is the cost of one. Then every actor is passivated and
 * K of them are woken again, timed one by one and in groups. Prints the ActorMemoryResult as one JSON line
 * after RESULT_MARK.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplyAgent } from '../../src/ai/reply-agent.ts';
import { createEngine, type Engine } from '../../src/app.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { SessionAddress } from '../../src/persistence/session-store.ts';
import { businessNumbersOf } from '../load/customers.ts';
import { histogramQuantile, MetricsScrape } from '../support/prometheus.ts';
import { Samples } from '../support/samples.ts';
import { type ActorMemoryResult, RESULT_MARK } from './actor-memory-result.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const sessions = Number(process.env.BENCH_SESSIONS ?? 10_000);
const rehydrations = Number(process.env.BENCH_REHYDRATIONS ?? 1_000);
const concurrency = 8;

/** Answers at once: the actor's footprint is measured, not an AI call's. */
const instantAgent: ReplyAgent = {
  async generateReply(request) {
    const question = request.unanswered.map((message) => message.text ?? '').join(' ');
    return {
      kind: 'reply',
      text: `We open 7:00 – 19:00 on weekdays and 8:00 – 18:00 at weekends. (${question.length})`,
      confidence: 0.9,
      lowConfidence: false,
      chunks: ['opening-hours-and-locations.md#1'],
    };
  },
};

const config = await loadConfig(new URL('../botrelic.bench.yaml', import.meta.url).pathname, process.env);
const [number] = businessNumbersOf(config);
const engine = await createEngine({
  config,
  env: readEnvironment(process.env),
  // Errors only: every typing indicator fails here (WHATSAPP_GRAPH_URL is a closed local port).
  logger: createLogger({ level: 'error' }),
  replyAgent: instantAgent,
  // Nothing passivates on its own: the measurement decides when (idle for 0 ms, swept by hand).
  actors: { idleMs: 0, sweepIntervalMs: 3_600_000 },
});

const run = randomBytes(3).toString('hex');
const addresses: SessionAddress[] = [];

async function converse(from: number, to: number): Promise<void> {
  const batch: SessionAddress[] = [];
  const arrivals = [];
  for (let i = from; i < to; i++) {
    const waId = `1666${String(i).padStart(8, '0')}`;
    arrivals.push({
      workspaceId: number!.workspaceId,
      phoneNumberId: number!.phoneNumberId,
      customerWaId: waId,
      wamid: `wamid.memory.${run}.${i}`,
      type: 'text',
      body: 'What are your opening hours?',
      customerName: `Customer ${i}`,
      payload: {
        from: waId,
        id: `wamid.memory.${run}.${i}`,
        type: 'text',
        text: { body: 'What are your opening hours?' },
      },
      sentAt: Date.now(),
    });
    batch.push(engine.sessions.addressOf(number!.workspaceId, number!.phoneNumberId, waId));
  }
  await engine.sessions.recordInbound(arrivals);
  await Promise.all(batch.map((address) => engine.host.deliverInbound(address)));
  addresses.push(...batch);
}

/** Until every session has its reply committed: no mailbox busy, no actor composing. */
async function quiet(host: Engine['host']): Promise<void> {
  for (;;) {
    await host.settle();
    const scrape = new MetricsScrape(await engine.registry.metrics());
    if (scrape.sum('botrelic_live_sessions', { state: 'ai_responding' }) === 0) return;
    await sleep(5);
  }
}

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

async function createSessions(count: number, offset: number): Promise<void> {
  for (let from = offset; from < offset + count; from += 500) {
    await converse(from, Math.min(offset + count, from + 500));
    await quiet(engine.host);
  }
}

// Warm up first, so lazily built code and caches are in the baseline, not in the per-actor cost.
await createSessions(500, 0);
addresses.length = 0;
const heapBefore = heapUsed();
await createSessions(sessions, 500);
const heapAfter = heapUsed();
if (engine.host.liveActors < sessions)
  throw new Error(`only ${engine.host.liveActors} of ${sessions} actors are live`);

const before = new MetricsScrape(await engine.registry.metrics());
const serial = new Samples();
const grouped = new Samples();
const sample = Array.from({ length: Math.min(rehydrations, addresses.length) }, (_, i) => {
  return addresses[Math.floor((i * addresses.length) / rehydrations)]!;
});
engine.host.passivateIdle();
for (const address of sample) {
  const started = performance.now();
  await engine.host.wake(address);
  serial.add(performance.now() - started);
}
engine.host.passivateIdle();
for (let i = 0; i < sample.length; i += concurrency) {
  await Promise.all(
    sample.slice(i, i + concurrency).map(async (address) => {
      const started = performance.now();
      await engine.host.wake(address);
      grouped.add(performance.now() - started);
    }),
  );
}
const after = new MetricsScrape(await engine.registry.metrics());
await engine.stop();

const bytesPerActor = (heapAfter - heapBefore) / sessions;
const result: ActorMemoryResult = {
  sessions,
  heapBeforeBytes: heapBefore,
  heapAfterBytes: heapAfter,
  bytesPerActor: Math.round(bytesPerActor),
  actorsPerGiB: Math.round(2 ** 30 / bytesPerActor),
  rehydrations: sample.length,
  serial: { p50: ms(serial.percentile(50)), p99: ms(serial.percentile(99)), max: ms(serial.max()) },
  concurrent: {
    concurrency,
    p50: ms(grouped.percentile(50)),
    p99: ms(grouped.percentile(99)),
    max: ms(grouped.max()),
  },
  histogram: {
    p50: ms(histogramQuantile(before, after, 'botrelic_rehydration_seconds', 0.5) * 1000),
    p99: ms(histogramQuantile(before, after, 'botrelic_rehydration_seconds', 0.99) * 1000),
  },
};
// Marked: the engine's own warnings share stdout.
process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
process.exit(0);

function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}
