import { Counter, Histogram, type Registry } from 'prom-client';

/** The gateway's inbound metrics (webhook and sandbox), registered on the registry the composition root owns. */
export function createInboundMetrics(registry: Registry) {
  const registers = [registry];
  return {
    webhookRequests: new Counter({
      name: 'botrelic_webhook_requests_total',
      help: 'POST /webhooks/whatsapp requests, by outcome: ok or the error code answered.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    unknownPhoneNumber: new Counter({
      name: 'botrelic_webhook_unknown_phone_number_total',
      help: 'Messages and statuses acknowledged but dropped because no workspace has their phone number.',
      registers,
    }),
    unparsedMessages: new Counter({
      name: 'botrelic_webhook_unparsed_messages_total',
      help:
        'Inbound messages of a known type whose content had another shape than Meta documents: stored raw, ' +
        'without text, by type.',
      labelNames: ['type'] as const,
      registers,
    }),
    inboundRecorded: new Counter({
      name: 'botrelic_inbound_messages_recorded_total',
      help: 'Inbound messages committed (webhook and sandbox), duplicates excluded.',
      registers,
    }),
    inboundDuplicates: new Counter({
      name: 'botrelic_inbound_duplicates_total',
      help: 'Inbound messages skipped because the workspace already had their wamid (Meta redeliveries).',
      registers,
    }),
    commitBatchSize: new Histogram({
      name: 'botrelic_inbound_commit_batch_size',
      help: 'Inbound messages per group commit (one transaction shared by concurrent requests).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    }),
    statuses: new Counter({
      name: 'botrelic_webhook_statuses_total',
      help: 'Delivery statuses received, by result: applied (moved a message forward) or ignored.',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}

export type InboundMetrics = ReturnType<typeof createInboundMetrics>;
