import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The actor host's Prometheus metrics, registered on the registry the composition root owns. */
export function createHostMetrics(registry: Registry) {
  const registers = [registry];
  return {
    eventsApplied: new Counter({
      name: 'botrelic_session_events_applied_total',
      help: 'Events applied to session actors, by event type.',
      labelNames: ['type'] as const,
      registers,
    }),
    stateTransitions: new Counter({
      name: 'botrelic_session_transitions_total',
      help: 'Committed session state changes, by from and to state.',
      labelNames: ['from', 'to'] as const,
      registers,
    }),
    liveActors: new Gauge({ name: 'botrelic_live_actors', help: 'Session actors in memory.', registers }),
    liveSessionsByState: new Gauge({
      name: 'botrelic_live_sessions',
      help: 'Session actors in memory, by machine state; botrelic_open_sessions counts passivated ones too.',
      labelNames: ['state'] as const,
      registers,
    }),
    passivations: new Counter({
      name: 'botrelic_passivations_total',
      help: 'Session actors stopped because they were idle or over the live limit (a running total; botrelic_passivated_sessions is how many are passivated now).',
      registers,
    }),
    rehydrations: new Counter({
      name: 'botrelic_rehydrations_total',
      help: 'Session actors loaded back from their stored snapshot.',
      registers,
    }),
    rehydrationSeconds: new Histogram({
      name: 'botrelic_rehydration_seconds',
      help: 'Time to load and restart a passivated session actor.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    }),
    mailboxDepth: new Gauge({
      name: 'botrelic_mailbox_depth',
      help: 'Jobs queued or running across all session mailboxes.',
      registers,
    }),
    persistSeconds: new Histogram({
      name: 'botrelic_persist_seconds',
      help: 'Time to commit a transition (snapshot, inbound marks, outbox) in one transaction.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    staleWrites: new Counter({
      name: 'botrelic_stale_writes_total',
      help: 'Session writes refused because another writer had written a newer version.',
      registers,
    }),
  };
}

export type HostMetrics = ReturnType<typeof createHostMetrics>;
