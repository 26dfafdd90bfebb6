/**
 * `npm run bench`: the engine under realistic WhatsApp traffic, in its own process, in services mode
 * (Postgres + NATS) and embedded mode (PGlite + in-process), against a bare signature-checking route as the
 * ceiling. Writes bench/results/<date>.json and .svg, prints the targets of issue 7, and exits 1 when any
 * reply was lost or duplicated (see bench/audit/reply-audit.ts). Sends traffic to 127.0.0.1 only.
 */
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load-config.ts';
import { businessNumbersOf } from './load/customers.ts';
import type { ActorMemoryResult } from './memory/actor-memory-result.ts';
import { measureActorMemory } from './phases/actor-memory-run.ts';
import { type BareCeilingResult, measureBareCeiling } from './phases/bare-ceiling.ts';
import { type EngineRunResult, type LoadPhase, runEngine } from './phases/engine-run.ts';
import { readPlan } from './plan.ts';
import { type CpuProfile, formatProfileSummary, summarizeProfile } from './report/cpu-profile.ts';
import { latencyChartSvg, type Series } from './report/latency-chart.ts';
import { evaluateTargets, summarizeMode } from './report/targets.ts';
import type { EngineMode } from './services/engine-process.ts';
import { synchronousCommit } from './support/postgres.ts';
import { loadAverage } from './support/proc-stats.ts';
import { Progress } from './support/progress.ts';

const ACK_BOUND_MS = 250;
const APP_SECRET = 'bench-app-secret-not-meta';
const CONFIG_PATH = join(import.meta.dirname, 'botrelic.bench.yaml');
const RESULTS_DIR = join(import.meta.dirname, 'results');

const plan = readPlan(process.argv.slice(2));
const progress = new Progress();
const startedAt = new Date();
const runId = startedAt.toISOString().replace(/\D/g, '').slice(0, 14);
// Bounded whatever happens: a stuck phase must not hold the machine.
const watchdog = setTimeout(
  () => {
    progress.log('the bench ran past its time limit: stopping');
    process.exit(1);
  },
  plan.quick ? 3 * 60_000 : 20 * 60_000,
);
watchdog.unref();

const loadBefore = loadAverage();
if (loadBefore > 0.7 * cpus().length) {
  progress.log(
    `warning: load average is ${loadBefore} on ${cpus().length} cores: other work will skew the figures`,
  );
}
const usesServices = plan.modes.includes('services');
const syncCommit = usesServices ? await synchronousCommit() : 'n/a';
if (usesServices) await requireNats();

const config = await loadConfig(CONFIG_PATH, process.env);
const numbers = businessNumbersOf(config);
const logDir = await mkdtemp(join(tmpdir(), `botrelic-bench-${runId}-`));
const profileDir = plan.cpuProfile ? join(RESULTS_DIR, 'profiles', runId) : undefined;
if (profileDir) await mkdir(profileDir, { recursive: true });
progress.log(
  `bench ${plan.quick ? 'quick' : 'full'} run ${runId}: modes ${plan.modes.join(', ')}, ${plan.customers} customers, ` +
    `load ${loadBefore}, synchronous_commit ${syncCommit}; engine logs in ${logDir}`,
);

const runs: EngineRunResult[] = [];
const memory: Partial<Record<EngineMode, ActorMemoryResult>> = {};
const common = {
  config,
  configPath: CONFIG_PATH,
  numbers,
  appSecret: APP_SECRET,
  customers: plan.customers,
  seed: plan.seed,
  connections: plan.connections,
  drainMs: plan.drainMs,
  logDir,
  progress,
  runId,
};
for (const mode of plan.modes) {
  const phases: LoadPhase[] = [
    { kind: 'fixed', name: 'warmup', ...plan.warmup[mode] },
    // Embedded mode is not held to the acknowledgement target, and 1,000 requests/s would only bury it.
    ...(mode === 'services'
      ? [{ kind: 'requests', name: `ack-${plan.ack.requestsPerSecond}rps`, ...plan.ack } as const]
      : []),
    { kind: 'steps', rates: plan.steps[mode], ms: plan.stepMs, ackBoundMs: ACK_BOUND_MS },
  ];
  runs.push(
    await runEngine({
      ...common,
      mode,
      variant: 'main',
      phases,
      ...(profileDir ? { cpuProfileDir: join(profileDir, mode) } : {}),
    }),
  );
  if (plan.slowAi) {
    const { latencyMs, ms } = plan.slowAi;
    const rate = plan.slowAi.rate[mode];
    runs.push(
      await runEngine({
        ...common,
        mode,
        variant: 'slow-ai',
        env: { BOTRELIC_AI_LATENCY_MS: String(latencyMs) },
        phases: [
          { kind: 'fixed', name: 'warmup', ...plan.warmup[mode] },
          { kind: 'fixed', name: `slow-ai-${rate}`, rate, ms },
        ],
      }),
    );
  }
  if (plan.memory) {
    progress.update(`${mode}: measuring memory per idle actor and rehydration (child process)`);
    // PGlite creates sessions several times slower; its per-actor memory is the same code, so fewer do.
    const sessions = mode === 'embedded' ? Math.min(plan.memory.sessions, 10_000) : plan.memory.sessions;
    memory[mode] = await measureActorMemory({
      mode,
      sessions,
      rehydrations: plan.memory.rehydrations,
      runId,
      timeoutMs: 5 * 60_000,
    });
    const result = memory[mode]!;
    progress.log(
      `${mode} memory: ${result.bytesPerActor} bytes per idle actor (${result.actorsPerGiB.toLocaleString('en')} per GiB, ` +
        `${result.sessions} sessions); rehydration p50/p99 ${result.concurrent.p50}/${result.concurrent.p99} ms ` +
        `(${result.concurrent.concurrency} at a time), ${result.serial.p50}/${result.serial.p99} ms one at a time`,
    );
  }
}

let bare: BareCeilingResult | undefined;
if (plan.bare) {
  bare = await measureBareCeiling({
    numbers,
    appSecret: APP_SECRET,
    rates: plan.bare.rates,
    ms: plan.bare.ms,
    ackBoundMs: ACK_BOUND_MS,
    connections: plan.connections,
    logDir,
    progress,
  });
}

const targets = evaluateTargets({ runs, bare, memory });
const modes = Object.fromEntries(plan.modes.map((mode) => [mode, summarizeMode(runs, mode)]));
const results = {
  date: startedAt.toISOString(),
  durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    loadBefore,
    loadAfter: loadAverage(),
    synchronousCommit: syncCommit,
  },
  plan,
  targets,
  modes,
  runs,
  memory,
  bare,
};
await mkdir(RESULTS_DIR, { recursive: true });
const stamp = `${startedAt.toISOString().slice(0, 19).replaceAll(':', '-')}${plan.quick ? '-quick' : ''}`;
await writeFile(join(RESULTS_DIR, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
await writeFile(join(RESULTS_DIR, `${stamp}.svg`), chart(runs, bare));

progress.log(`results: bench/results/${stamp}.json and .svg (${results.durationSeconds} s)`);
for (const target of targets) {
  const verdict = target.met === null ? 'n/a ' : target.met ? 'MET ' : 'MISS';
  console.log(`${verdict} ${target.name}: ${target.measured} (target ${target.target})`);
}
if (profileDir) await printProfiles(profileDir);
const audited = runs.every((run) => run.audit.ok && run.exitCode === 0);
if (!audited) console.error('FAILED: a run lost or duplicated replies, or the engine did not exit cleanly');
process.exit(audited ? 0 : 1);

function chart(engineRuns: EngineRunResult[], ceiling: BareCeilingResult | undefined): string {
  const colors: Record<EngineMode, string> = { services: '#1565c0', embedded: '#2e7d32' };
  const series: Series[] = [];
  for (const run of engineRuns.filter((candidate) => candidate.variant === 'main')) {
    const steps = run.phases.filter((phase) => phase.holds !== undefined);
    series.push(
      {
        label: `${run.mode}: ack p99`,
        color: colors[run.mode],
        points: steps.map((s) => ({ x: s.offered, y: s.ack.p99 })),
      },
      {
        label: `${run.mode}: reply p99`,
        color: colors[run.mode],
        dashed: true,
        points: steps.map((s) => ({ x: s.offered, y: s.endToEnd?.p99 ?? s.firstReply.p99 })),
      },
    );
  }
  if (ceiling) {
    series.push({
      label: 'bare route: ack p99 (req/s)',
      color: '#6a1b9a',
      points: ceiling.steps.map((step) => ({ x: step.offered, y: step.ackP99 })),
    });
  }
  return latencyChartSvg(
    `Botrelic on ${cpus().length} cores: latency against offered messages per second`,
    series,
    [
      { y: 10, label: 'ack target 10 ms' },
      { y: ACK_BOUND_MS, label: 'sustained bound 250 ms' },
    ],
  );
}

async function printProfiles(dir: string): Promise<void> {
  for (const mode of await readdir(dir)) {
    for (const file of await readdir(join(dir, mode))) {
      const profile = JSON.parse(await readFile(join(dir, mode, file), 'utf8')) as CpuProfile;
      console.log(`\nCPU profile ${mode}/${file}: ${formatProfileSummary(summarizeProfile(profile), 25)}`);
    }
  }
}

async function requireNats(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect(4222, '127.0.0.1', () => {
      socket.end();
      resolve();
    });
    socket.once('error', () =>
      reject(new Error('NATS is not reachable on 127.0.0.1:4222 (services mode needs it)')),
    );
  });
}
