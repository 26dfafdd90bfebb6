import type { InboundStore, NewInboundMessage, SessionAddress } from '../persistence/session-store.ts';
import { sessionSubject } from '../transport/subjects.ts';
import { NoRespondersError, RequestTimeoutError, type Transport } from '../transport/transport.ts';
import type { SessionCommand } from './actor-host.ts';
import { partitionOf, sessionKeyOf } from './session-key.ts';
import type { RoutedCommandResult } from './session-router.ts';

export type InboundArrival = Omit<NewInboundMessage, 'sessionKey' | 'partition'>;

/**
 * How the gateway reaches sessions, wherever in the cluster they are hosted: inbound messages are
 * committed first and then announced on the session's `in` subject; commands are requests on `cmd`.
 */
export class SessionClient {
  constructor(
    private readonly transport: Transport,
    private readonly inbound: InboundStore,
  ) {}

  addressOf(workspaceId: string, phoneNumberId: string, customerWaId: string): SessionAddress {
    const sessionKey = sessionKeyOf(phoneNumberId, customerWaId);
    return { workspaceId, sessionKey, partition: partitionOf(sessionKey) };
  }

  /**
   * Commits the messages (duplicates skipped), then rings each session's doorbell. A lost notice
   * costs only latency: the sweeper finds unapplied rows in the store.
   */
  async recordInbound(
    arrivals: readonly InboundArrival[],
  ): Promise<{ inserted: number; duplicates: number }> {
    const messages = arrivals.map((arrival) => ({
      ...arrival,
      ...this.addressOf(arrival.workspaceId, arrival.phoneNumberId, arrival.customerWaId),
    }));
    const { inserted, duplicates } = await this.inbound.recordInbound(messages);
    const notified = new Set<string>();
    for (const message of inserted) {
      const subject = sessionSubject(message.workspaceId, message.partition, message.sessionKey, 'in');
      if (notified.has(subject)) continue;
      notified.add(subject);
      await this.transport.publish(subject, null).catch(() => undefined);
    }
    return { inserted: inserted.length, duplicates };
  }

  async command(
    address: SessionAddress,
    command: SessionCommand,
    timeoutMs = 5_000,
  ): Promise<RoutedCommandResult> {
    const subject = sessionSubject(address.workspaceId, address.partition, address.sessionKey, 'cmd');
    try {
      return (await this.transport.request(subject, command, { timeoutMs })) as RoutedCommandResult;
    } catch (error) {
      if (error instanceof NoRespondersError || error instanceof RequestTimeoutError) {
        return { ok: false, error: 'unavailable' };
      }
      throw error;
    }
  }
}
