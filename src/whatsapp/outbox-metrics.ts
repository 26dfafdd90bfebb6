import { Counter, Histogram, type Registry } from 'prom-client';

/** The outbox sender's Prometheus metrics, registered on the registry the composition root owns. */
export function createOutboxMetrics(registry: Registry) {
  const registers = [registry];
  return {
    sent: new Counter({
      name: 'botrelic_outbox_sent_total',
      help: 'Outbound messages handed to Meta (production) or to the sandbox outbox (sandbox).',
      labelNames: ['mode'] as const,
      registers,
    }),
    failed: new Counter({
      name: 'botrelic_outbox_failed_total',
      help: "Outbound messages failed for good, by mode and Meta's error code (none: not one of Meta's).",
      labelNames: ['mode', 'code'] as const,
      registers,
    }),
    retried: new Counter({
      name: 'botrelic_outbox_retried_total',
      help: 'Graph API sends that failed in a retryable way (5xx, 429, 130429, timeouts) and were rescheduled.',
      labelNames: ['mode'] as const,
      registers,
    }),
    paced: new Counter({
      name: 'botrelic_outbox_paced_total',
      help: 'Outbox rows put back until their send slot, by the limit that held them.',
      labelNames: ['limit'] as const,
      registers,
    }),
    sendSeconds: new Histogram({
      name: 'botrelic_outbox_send_seconds',
      help: 'Graph API send calls, from request to answer, by outcome.',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    deliverySeconds: new Histogram({
      name: 'botrelic_outbox_delivery_seconds',
      help: 'From the session writing a message to it being marked sent, by mode (pacing and retries included).',
      labelNames: ['mode'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    markSentSeconds: new Histogram({
      name: 'botrelic_outbox_mark_sent_seconds',
      help:
        "From Meta's answer to the commit marking the message sent: the window in which a crash sends the " +
        'message again after restart.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    leaseLost: new Counter({
      name: 'botrelic_outbox_lease_lost_total',
      help: 'Deliveries whose lease had lapsed (another sender took the row) when they came to record the outcome.',
      registers,
    }),
    typingIndicators: new Counter({
      name: 'botrelic_typing_indicators_total',
      help: 'Mark-as-read calls for the messages the AI answers, by result: shown (with "typing…" while it composes), read (answered at once), failed.',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}

export type OutboxMetrics = ReturnType<typeof createOutboxMetrics>;
