import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotrelicConfig } from '../../src/config/workspace-config.ts';
import { createDatabase } from '../../src/persistence/database.ts';
import { type AuditResult, auditReplies } from '../audit/reply-audit.ts';
import { type BusinessNumber, createCustomers } from '../load/customers.ts';
import { seededRandom } from '../load/random.ts';
import { type StepResult, stepHolds, stepResult } from '../load/rate-steps.ts';
import { Traffic } from '../load/traffic.ts';
import { WebhookSender } from '../load/webhook-sender.ts';
import { type EngineMode, type EngineProcess, startEngineProcess } from '../services/engine-process.ts';
import { startFakeGraphApi } from '../services/fake-graph-api.ts';
import { createBenchDatabase, dropBenchDatabase } from '../support/postgres.ts';
import type { Progress } from '../support/progress.ts';
import type { MetricsScrape } from '../support/prometheus.ts';
import { type LatencySummary, round } from '../support/samples.ts';
import { type CpuUse, ResourceMeter } from './resource-meter.ts';

export type LoadPhase =
  | { kind: 'fixed'; name: string; rate: number; ms: number }
  /** At a rate of webhook requests, converted with the requests per message seen in the phase before. */
  | { kind: 'requests'; name: string; requestsPerSecond: number; ms: number }
  /** Rates stepped up until acknowledgements break the bound or the engine falls behind. */
  | { kind: 'steps'; rates: number[]; ms: number; ackBoundMs: number };

export interface PhaseResult extends StepResult {
  name: string;
  seconds: number;
  bursts: number;
  messages: number;
  duplicates: number;
  statuses: number;
  starved: number;
  ack: LatencySummary;
  /** Burst → first reply, as the customers saw it live. */
  firstReply: LatencySummary;
  /** Message → the reply that answered it, from the audit (filled in after the run). */
  endToEnd?: LatencySummary;
  /** Every burst of the phase answered within the drain time after it. */
  drained: boolean;
  cpu: CpuUse;
  holds?: boolean;
}

export interface EngineRunResult {
  mode: EngineMode;
  variant: string;
  startupSeconds: number;
  phases: PhaseResult[];
  peakRssBytes: number;
  peakHeapUsedBytes: number;
  exitCode: number | null;
  audit: Omit<AuditResult, 'endToEnd'>;
  /** Engine metrics over the whole run: commit sizes, persist time, rehydrations. */
  engineMetrics: Record<string, number>;
  cpuProfileDir?: string;
}

export interface EngineRunOptions {
  mode: EngineMode;
  variant: string;
  config: BotrelicConfig;
  configPath: string;
  numbers: BusinessNumber[];
  appSecret: string;
  customers: number;
  seed: number;
  connections: number;
  drainMs: number;
  phases: LoadPhase[];
  env?: Record<string, string>;
  logDir: string;
  cpuProfileDir?: string;
  progress: Progress;
  runId: string;
}

/** One engine process from start to audit: its own database, its own fake Graph API, the phases in order. */
export async function runEngine(options: EngineRunOptions): Promise<EngineRunResult> {
  const { mode, variant, progress } = options;
  const label = `${mode}/${variant}`;
  const databaseName = `botrelic_bench_${options.runId}_${mode}_${variant.replaceAll('-', '_')}`;
  const dataDir = mode === 'embedded' ? await mkdtemp(join(tmpdir(), 'botrelic-bench-')) : undefined;
  const databaseUrl = mode === 'services' ? await createBenchDatabase(databaseName) : undefined;
  const tokens = new Map(options.numbers.map((number) => [number.phoneNumberId, number.accessToken]));
  const graph = await startFakeGraphApi(tokens);
  let traffic: Traffic | undefined;
  graph.onReply = (reply) => traffic?.onReply(reply);
  let engine: EngineProcess | undefined;
  let sender: WebhookSender | undefined;
  try {
    const started = performance.now();
    progress.update(`${label}: starting the engine (migrations, knowledge ingestion)`);
    engine = await startEngineProcess({
      mode,
      configPath: options.configPath,
      databaseUrl,
      dataDir,
      appSecret: options.appSecret,
      graphUrl: graph.url,
      logFile: join(options.logDir, `engine-${mode}-${variant}.log`),
      env: options.env,
      cpuProfileDir: options.cpuProfileDir,
    });
    const startupSeconds = round((performance.now() - started) / 1000, 1);
    sender = new WebhookSender(engine.origin, {
      appSecret: options.appSecret,
      connections: options.connections,
    });
    const random = seededRandom(options.seed);
    const load = new Traffic({
      customers: createCustomers(options.numbers, options.customers, random),
      sender,
      random,
      skew: 1.0,
      duplicateShare: 0.05,
      statusShare: 0.3,
      reorderedShare: 0.25,
      batchedBurstShare: 0.4,
      thinkMs: { min: 6_000, max: 12_000 },
    });
    traffic = load;
    const meter = new ResourceMeter(engine);
    meter.start();
    const firstScrape = await engine.scrape();
    const phases: PhaseResult[] = [];
    let requestsPerMessage = 1.4;

    const tick = () => {
      const stats = load.stats;
      const seconds = stats.seconds;
      progress.update(
        `${label} ${stats.name}: ${Math.round(stats.messages / seconds)} msg/s (offered ${stats.offeredRate}), ` +
          `ack p99 ${stats.ack.percentile(99).toFixed(1)} ms, first reply p99 ${stats.firstReply.percentile(99).toFixed(0)} ms, ` +
          `waiting ${load.waiting}, replies ${load.replies}`,
      );
    };
    const runPhase = async (name: string, rate: number, ms: number): Promise<PhaseResult> => {
      const before = meter.read();
      const finished = await load.offer(name, rate, ms, tick);
      const afterLoad = meter.read();
      const drained = await load.drain(options.drainMs, () =>
        progress.update(`${label} ${name}: draining, ${load.waiting} customers waiting for a reply`),
      );
      requestsPerMessage = (finished.webhooks + finished.duplicates) / Math.max(1, finished.messages);
      const result: PhaseResult = {
        name,
        ...stepResult(finished),
        seconds: round(finished.seconds, 1),
        bursts: finished.bursts,
        messages: finished.messages,
        duplicates: finished.duplicates,
        statuses: finished.statuses,
        starved: finished.starved,
        ack: finished.ack.summary(),
        firstReply: finished.firstReply.summary(),
        drained,
        cpu: ResourceMeter.between(before, afterLoad),
      };
      progress.log(
        `${label} ${name}: ${result.achieved} msg/s (${result.requestsPerSecond} req/s), ack p50/p99/p999 ` +
          `${result.ack.p50}/${result.ack.p99}/${result.ack.p999} ms, first reply p50/p99 ` +
          `${result.firstReply.p50}/${result.firstReply.p99} ms, engine ${result.cpu.engine} cores, ` +
          `postgres ${result.cpu.postgres}${drained ? '' : ', NOT DRAINED'}`,
      );
      phases.push(result);
      return result;
    };

    for (const phase of options.phases) {
      if (phase.kind === 'fixed') await runPhase(phase.name, phase.rate, phase.ms);
      else if (phase.kind === 'requests') {
        await runPhase(phase.name, Math.round(phase.requestsPerSecond / requestsPerMessage), phase.ms);
      } else {
        for (const rate of phase.rates) {
          const step = await runPhase(`step-${rate}`, rate, phase.ms);
          step.holds = stepHolds(step, phase.ackBoundMs);
          // Beyond this the engine is saturated: higher steps would only measure the backlog.
          if (!step.holds || !step.drained || step.achieved < 0.8 * rate) break;
        }
      }
    }

    progress.update(`${label}: final drain`);
    const drained = await load.drain(options.drainMs);
    await meter.sampleMemory();
    meter.stop();
    const lastScrape = await engine.scrape();
    progress.update(`${label}: stopping the engine`);
    const exitCode = await engine.stop();
    const peakRssBytes = Math.max(meter.peakRss, engine.memory().peakRss);

    progress.update(`${label}: auditing replies`);
    const database = databaseUrl
      ? await createDatabase({ url: databaseUrl })
      : await createDatabase({ dataDir });
    let audit: AuditResult;
    try {
      audit = await auditReplies(database.db, load.messages, graph.replies, load.readAcknowledged);
    } finally {
      await database.close();
    }
    if (!drained) audit.ok = false;
    if (graph.refused > 0) {
      audit.ok = false;
      audit.examples.push(`the fake Graph API refused ${graph.refused} requests (bad token or body)`);
    }
    for (const phase of phases) {
      const samples = audit.endToEnd.get(phase.name);
      if (samples) phase.endToEnd = samples.summary();
    }
    const { endToEnd: _, ...auditSummary } = audit;
    progress.log(
      `${label}: audit ${audit.ok ? 'passed' : 'FAILED'}: ${audit.counts.inboundAccepted} messages accepted, ` +
        `${audit.counts.replies} replies, ${audit.counts.handedOff} handed off` +
        (audit.ok ? '' : `\n  ${audit.examples.join('\n  ')}`),
    );
    return {
      mode,
      variant,
      startupSeconds,
      phases,
      peakRssBytes,
      peakHeapUsedBytes: meter.peakHeapUsed,
      exitCode,
      audit: auditSummary,
      engineMetrics: engineMetricsOf(firstScrape, lastScrape),
      ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}),
    };
  } finally {
    await engine?.stop();
    await sender?.close();
    await graph.close();
    if (databaseUrl) await dropBenchDatabase(databaseName);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

function engineMetricsOf(before: MetricsScrape, after: MetricsScrape): Record<string, number> {
  const delta = (name: string, where?: Record<string, string>) =>
    after.sum(name, where) - before.sum(name, where);
  const mean = (name: string) => delta(`${name}_sum`) / Math.max(1, delta(`${name}_count`));
  return {
    inboundRecorded: delta('botrelic_inbound_messages_recorded_total'),
    inboundDuplicates: delta('botrelic_inbound_duplicates_total'),
    commits: delta('botrelic_inbound_commit_batch_size_count'),
    meanCommitBatch: round(mean('botrelic_inbound_commit_batch_size'), 2),
    transitionsPersisted: delta('botrelic_persist_seconds_count'),
    meanPersistMs: round(mean('botrelic_persist_seconds') * 1000, 3),
    rehydrations: delta('botrelic_rehydrations_total'),
    staleWrites: delta('botrelic_stale_writes_total'),
    engineCpuSeconds: round(delta('botrelic_process_cpu_seconds_total'), 1),
  };
}
