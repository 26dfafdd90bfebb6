/** What bench/memory/actor-memory.ts measures; it prints it as JSON after RESULT_MARK. */
export const RESULT_MARK = 'actor-memory-result ';

export interface ActorMemoryResult {
  sessions: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  bytesPerActor: number;
  actorsPerGiB: number;
  rehydrations: number;
  /** Waking one passivated session at a time: load from the store and restart the actor, in ms. */
  serial: { p50: number; p99: number; max: number };
  /** The same with `concurrency` wakes in flight, as a busy node sees it. */
  concurrent: { concurrency: number; p50: number; p99: number; max: number };
  /** The engine's own botrelic_rehydration_seconds over the whole measurement, in ms (bucket-interpolated). */
  histogram: { p50: number; p99: number };
}
