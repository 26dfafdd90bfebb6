import { parseArgs } from 'node:util';
import type { EngineMode } from './services/engine-process.ts';

/** Everything a run does, sized by `--quick` or full. Every phase is bounded in time. */
export interface BenchPlan {
  quick: boolean;
  modes: EngineMode[];
  cpuProfile: boolean;
  seed: number;
  customers: number;
  /** Per mode: embedded mode (PGlite, one process) takes a fraction of what services mode does. */
  warmup: Record<EngineMode, { rate: number; ms: number }>;
  /** The acknowledgement target, stated in webhook requests per second, is a services-mode target. */
  ack: { requestsPerSecond: number; ms: number };
  steps: Record<EngineMode, number[]>;
  stepMs: number;
  /** Waiting for every burst of a phase to be answered before the next phase. */
  drainMs: number;
  /** A run with every AI call made this much slower, at this rate of messages. */
  slowAi: { latencyMs: number; rate: Record<EngineMode, number>; ms: number } | null;
  bare: { rates: number[]; ms: number } | null;
  memory: { sessions: number; rehydrations: number } | null;
  connections: number;
}

const USAGE = `Usage: npm run bench -- [--quick] [--mode services|embedded] [--cpu-prof] [--seed N]

  --quick      a development run, under a minute: services mode, short phases
  --mode       only this mode (default: both in a full run, services in a quick one)
  --cpu-prof   write V8 CPU profiles of the engine to bench/results/profiles/ and summarize them
  --seed       the traffic's random seed (default 7)`;

export function readPlan(argv: string[]): BenchPlan {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      mode: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.mode !== undefined && values.mode !== 'services' && values.mode !== 'embedded') {
    throw new Error(`--mode must be services or embedded\n\n${USAGE}`);
  }
  const quick = values.quick === true;
  const modes: EngineMode[] = values.mode
    ? [values.mode as EngineMode]
    : quick
      ? ['services']
      : ['services', 'embedded'];
  const common = {
    modes,
    cpuProfile: values['cpu-prof'] === true,
    seed: Number(values.seed ?? 7),
    connections: 64,
  };
  if (quick) {
    return {
      ...common,
      quick,
      customers: 15_000,
      warmup: { services: { rate: 300, ms: 2_000 }, embedded: { rate: 25, ms: 2_000 } },
      ack: { requestsPerSecond: 1_000, ms: 4_000 },
      steps: { services: [1_000, 2_000], embedded: [25, 50] },
      stepMs: 3_000,
      drainMs: 10_000,
      slowAi: null,
      bare: { rates: [4_000, 8_000], ms: 2_000 },
      memory: { sessions: 2_000, rehydrations: 500 },
    };
  }
  return {
    ...common,
    quick,
    customers: 40_000,
    warmup: { services: { rate: 300, ms: 5_000 }, embedded: { rate: 25, ms: 5_000 } },
    ack: { requestsPerSecond: 1_000, ms: 20_000 },
    steps: {
      services: [500, 1_000, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000],
      embedded: [25, 50, 100, 150, 200, 300],
    },
    stepMs: 10_000,
    drainMs: 20_000,
    slowAi: { latencyMs: 500, rate: { services: 800, embedded: 50 }, ms: 15_000 },
    bare: { rates: [2_000, 4_000, 6_000, 8_000, 10_000, 12_000, 15_000, 20_000], ms: 5_000 },
    memory: { sessions: 50_000, rehydrations: 5_000 },
  };
}
