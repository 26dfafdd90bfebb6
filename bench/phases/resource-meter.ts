import type { EngineProcess } from '../services/engine-process.ts';
import { machineCpuTicks, pidsNamed, processCpuSeconds } from '../support/proc-stats.ts';

/** CPU used during a stretch of time, in cores (1.0 = one core busy throughout). */
export interface CpuUse {
  engine: number;
  postgres: number;
  nats: number;
  /** The bench itself: load generator and fake Graph API. */
  bench: number;
  /** The whole machine, as a share of all its cores (0..1). */
  machineBusy: number;
}

interface CpuReading {
  at: number;
  engine: number;
  /** By process: Postgres forks a backend per connection, and they come and go. */
  postgres: Map<number, number>;
  nats: Map<number, number>;
  bench: number;
  machine: { busy: number; total: number };
}

/**
 * Follows the engine's CPU (from /proc) and memory (/proc for RSS, its /metrics for the V8 heap), and the
 * CPU of Postgres and NATS, which share the same two cores.
 */
export class ResourceMeter {
  peakRss = 0;
  peakHeapUsed = 0;
  readonly #engine: EngineProcess;
  #timer: NodeJS.Timeout | undefined;

  constructor(engine: EngineProcess) {
    this.#engine = engine;
  }

  start(): void {
    this.#timer = setInterval(() => void this.sampleMemory(), 1_000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async sampleMemory(): Promise<void> {
    this.peakRss = Math.max(this.peakRss, this.#engine.memory().peakRss);
    const scrape = await this.#engine.scrape().catch(() => undefined);
    if (scrape)
      this.peakHeapUsed = Math.max(this.peakHeapUsed, scrape.sum('botrelic_nodejs_heap_size_used_bytes'));
  }

  read(): CpuReading {
    const { user, system } = process.cpuUsage();
    return {
      at: performance.now(),
      engine: this.#engine.cpuSeconds(),
      postgres: cpuByProcess('postgres'),
      nats: cpuByProcess('nats-server'),
      bench: (user + system) / 1e6,
      machine: machineCpuTicks(),
    };
  }

  static between(before: CpuReading, after: CpuReading): CpuUse {
    const seconds = (after.at - before.at) / 1000;
    const cores = (a: number, b: number) => Math.round(((b - a) / seconds) * 100) / 100;
    const total = after.machine.total - before.machine.total;
    return {
      engine: cores(before.engine, after.engine),
      postgres: cores(0, grownBy(before.postgres, after.postgres)),
      nats: cores(0, grownBy(before.nats, after.nats)),
      bench: cores(before.bench, after.bench),
      machineBusy:
        total > 0 ? Math.round(((after.machine.busy - before.machine.busy) / total) * 100) / 100 : 0,
    };
  }
}

function cpuByProcess(name: string): Map<number, number> {
  return new Map(pidsNamed(name).map((pid) => [pid, processCpuSeconds(pid) ?? 0]));
}

/** CPU seconds used between two readings by the processes alive at the second; a newcomer counts from zero. */
function grownBy(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}
