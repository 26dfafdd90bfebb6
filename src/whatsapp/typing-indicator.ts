import type { Logger } from 'pino';
import type { GraphApiClient } from './graph-api-client.ts';
import type { OutboxMetrics } from './outbox-metrics.ts';
import type { SendingNumbers } from './sending-numbers.ts';

/** The port the actor host calls when a session starts composing an AI answer. */
export interface TypingIndicator {
  /**
   * Marks the customer's message read and, with `typing`, shows "typing…". Best effort: never throws, never
   * retried.
   */
  show(request: { workspaceId: string; phoneNumberId: string; wamid: string; typing: boolean }): void;
}

/**
 * Through the Graph API, for production numbers only: a sandbox number never calls Meta. Meta drops the
 * indicator when the reply arrives or after 25 s; it is not refreshed
 * (docs/decisions/0005-outbox-delivery.md).
 */
export function createTypingIndicator(options: {
  graph: GraphApiClient;
  numbers: SendingNumbers;
  logger: Logger;
  metrics: Pick<OutboxMetrics, 'typingIndicators'>;
}): TypingIndicator {
  const { graph, numbers, logger, metrics } = options;
  return {
    show({ workspaceId, phoneNumberId, wamid, typing }) {
      const number = numbers.lookup(phoneNumberId);
      if (number?.workspaceId !== workspaceId || number.mode !== 'production') return;
      graph
        .markAsRead({ phoneNumberId, accessToken: number.accessToken, wamid, typingIndicator: typing })
        .then(
          () => metrics.typingIndicators.inc({ result: typing ? 'shown' : 'read' }),
          (error: unknown) => {
            metrics.typingIndicators.inc({ result: 'failed' });
            // Cosmetic: the answer goes out all the same. The client's errors never carry the token.
            logger.warn({ err: error, phoneNumberId }, 'typing indicator not shown');
          },
        );
    },
  };
}
