/** Latency samples in milliseconds. Kept whole (a run holds at most a few hundred thousand) so percentiles are exact. */
export class Samples {
  #values: number[] = [];
  #sorted: Float64Array | undefined;

  add(value: number): void {
    this.#values.push(value);
    this.#sorted = undefined;
  }

  get count(): number {
    return this.#values.length;
  }

  /** Nearest-rank percentile (p in 0..100); NaN when empty. */
  percentile(p: number): number {
    const sorted = this.#sortedValues();
    if (sorted.length === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
  }

  max(): number {
    const sorted = this.#sortedValues();
    return sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50: round(this.percentile(50)),
      p99: round(this.percentile(99)),
      p999: round(this.percentile(99.9)),
      max: round(this.max()),
    };
  }

  #sortedValues(): Float64Array {
    this.#sorted ??= Float64Array.from(this.#values).sort();
    return this.#sorted;
  }
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Three significant decimals are more than any of these measurements can tell apart. */
export function round(value: number, decimals = 3): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
