/** One scrape of a Prometheus text endpoint: each sample by metric name, with its labels. */
export class MetricsScrape {
  readonly #samples = new Map<string, { labels: Record<string, string>; value: number }[]>();

  constructor(text: string) {
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!match) continue;
      const [, name, labelText, value] = match;
      const labels: Record<string, string> = {};
      for (const label of (labelText ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
        labels[label[1]!] = label[2]!;
      const list = this.#samples.get(name!) ?? [];
      list.push({ labels, value: Number(value) });
      this.#samples.set(name!, list);
    }
  }

  /** The sum over every label set of a metric (0 when absent), optionally only those matching `where`. */
  sum(name: string, where: Record<string, string> = {}): number {
    return (this.#samples.get(name) ?? [])
      .filter((sample) => Object.entries(where).every(([key, value]) => sample.labels[key] === value))
      .reduce((total, sample) => total + sample.value, 0);
  }

  /** Cumulative bucket counts of a histogram, by upper bound, ascending. */
  buckets(name: string): { le: number; count: number }[] {
    return (this.#samples.get(`${name}_bucket`) ?? [])
      .map((sample) => ({
        le: Number(sample.labels.le === '+Inf' ? Infinity : sample.labels.le),
        count: sample.value,
      }))
      .sort((a, b) => a.le - b.le);
  }
}

/**
 * A quantile of the observations made between two scrapes of one histogram, interpolated linearly inside
 * its bucket as Prometheus' histogram_quantile does; in the histogram's unit.
 */
export function histogramQuantile(
  before: MetricsScrape | undefined,
  after: MetricsScrape,
  name: string,
  q: number,
): number {
  const start = new Map((before?.buckets(name) ?? []).map((bucket) => [bucket.le, bucket.count]));
  const buckets = after
    .buckets(name)
    .map((bucket) => ({ le: bucket.le, count: bucket.count - (start.get(bucket.le) ?? 0) }));
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      return lowerBound + (bucket.le - lowerBound) * (inBucket === 0 ? 1 : (rank - lowerCount) / inBucket);
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}
