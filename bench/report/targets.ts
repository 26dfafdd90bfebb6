import type { ActorMemoryResult } from '../memory/actor-memory-result.ts';
import type { BareCeilingResult } from '../phases/bare-ceiling.ts';
import type { EngineRunResult, PhaseResult } from '../phases/engine-run.ts';
import type { EngineMode } from '../services/engine-process.ts';

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

/** What the bench reports about one mode, derived from its runs. */
export interface ModeSummary {
  ack: PhaseResult | undefined;
  /** Highest messages/s whose acknowledgements held p99 ≤ 250 ms. */
  sustainedAckRate: number;
  /** Highest messages/s that also answered every burst promptly (first reply p99 ≤ 1 s, drained). */
  sustainedEndToEndRate: number;
}

export const FIRST_REPLY_BOUND_MS = 1_000;

export function summarizeMode(runs: EngineRunResult[], mode: EngineMode): ModeSummary {
  const main = runs.find((run) => run.mode === mode && run.variant === 'main');
  const steps = main?.phases.filter((phase) => phase.holds !== undefined) ?? [];
  const held = steps.filter((step) => step.holds);
  const answered = held.filter(
    (step) =>
      step.drained &&
      step.firstReply.p99 <= FIRST_REPLY_BOUND_MS &&
      (step.endToEnd?.p99 ?? 0) <= FIRST_REPLY_BOUND_MS,
  );
  return {
    ack: main?.phases.find((phase) => phase.name.startsWith('ack-')),
    sustainedAckRate: Math.max(0, ...held.map((step) => step.achieved)),
    sustainedEndToEndRate: Math.max(0, ...answered.map((step) => step.achieved)),
  };
}

/** The targets of issue 7, on services mode. `met: null` when the run did not measure it. */
export function evaluateTargets(input: {
  runs: EngineRunResult[];
  bare: BareCeilingResult | undefined;
  memory: Partial<Record<EngineMode, ActorMemoryResult>>;
}): Target[] {
  const services = summarizeMode(input.runs, 'services');
  const memory = input.memory.services;
  const ceiling = input.bare?.ceiling ?? 0;
  const ratio = ceiling > 0 ? services.sustainedEndToEndRate / ceiling : Number.NaN;
  const hasServices = input.runs.some((run) => run.mode === 'services');
  const ack = services.ack;
  return [
    {
      name: 'webhook ack p99 at 1,000 requests/s',
      target: '≤ 10 ms',
      measured: ack ? `${ack.ack.p99} ms at ${ack.requestsPerSecond} req/s` : 'not measured',
      met: ack ? ack.ack.p99 <= 10 && ack.requestsPerSecond >= 950 : null,
    },
    {
      name: 'sustained end-to-end, every message answered',
      target: '≥ 2,000 messages/s',
      measured: hasServices ? `${services.sustainedEndToEndRate} messages/s` : 'not measured',
      met: hasServices ? services.sustainedEndToEndRate >= 2_000 : null,
    },
    {
      name: 'sustained end-to-end as a share of the bare-route ceiling',
      target: '≥ 0.25',
      measured: Number.isNaN(ratio)
        ? 'not measured'
        : `${ratio.toFixed(3)} (${services.sustainedEndToEndRate} / ${ceiling})`,
      met: Number.isNaN(ratio) ? null : ratio >= 0.25,
    },
    {
      name: 'idle live session actors per GiB of heap',
      target: '≥ 100,000',
      measured: memory
        ? `${memory.actorsPerGiB.toLocaleString('en')} (${memory.bytesPerActor} bytes each)`
        : 'not measured',
      met: memory ? memory.actorsPerGiB >= 100_000 : null,
    },
    {
      name: 'passivated-session rehydration p99',
      target: '≤ 5 ms',
      measured: memory
        ? `${memory.concurrent.p99} ms (${memory.concurrent.concurrency} at a time; one at a time ${memory.serial.p99} ms)`
        : 'not measured',
      met: memory ? memory.concurrent.p99 <= 5 : null,
    },
    {
      name: 'lost or duplicate replies, every run',
      target: '0',
      measured: input.runs
        .map((run) => `${run.mode}/${run.variant}: ${run.audit.ok ? 'none' : 'FOUND'}`)
        .join(', '),
      met: input.runs.every((run) => run.audit.ok),
    },
  ];
}
