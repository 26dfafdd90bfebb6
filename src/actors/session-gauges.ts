import { Gauge, type Registry } from 'prom-client';
import type { OpenSessionCount } from '../persistence/session-counts.ts';

export interface SessionGaugeSources {
  /** Open sessions of the partitions this node owns, by workspace and state, read from the database. */
  countOpenSessions(): Promise<OpenSessionCount[]>;
  /** Session actors in memory now. */
  liveActors(): number;
}

/**
 * Gauges of every open session, computed when Prometheus scrapes: the host's own gauges see only actors in
 * memory, so a passivated session would drop out of them. Both gauges cover the partitions this node owns,
 * so summing them across nodes gives the cluster's totals. If the database cannot answer, that scrape has no
 * open-session samples and NaN passivated sessions (unknown, not zero); the other metrics still come through,
 * and /readyz says what is down.
 */
export function registerSessionGauges(registry: Registry, sources: SessionGaugeSources): void {
  // Both gauges are collected in the same scrape: they share one query.
  let inFlight: Promise<OpenSessionCount[] | undefined> | undefined;
  const counts = () => {
    inFlight ??= sources
      .countOpenSessions()
      .catch(() => undefined)
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  new Gauge({
    name: 'botrelic_open_sessions',
    help: 'Open sessions (live or passivated) of the partitions this node owns, by workspace and state.',
    labelNames: ['workspace', 'state'] as const,
    registers: [registry],
    async collect() {
      const rows = await counts();
      this.reset();
      for (const row of rows ?? []) this.set({ workspace: row.workspaceId, state: row.state }, row.sessions);
    },
  });

  new Gauge({
    name: 'botrelic_passivated_sessions',
    help: 'Open sessions of the partitions this node owns that are not in memory now (passivated, or never loaded since start).',
    registers: [registry],
    async collect() {
      const rows = await counts();
      if (!rows) return this.set(Number.NaN);
      const open = rows.reduce((sum, row) => sum + row.sessions, 0);
      // Counted at slightly different moments: a session created since the query is live but not yet counted.
      this.set(Math.max(0, open - sources.liveActors()));
    },
  });
}
