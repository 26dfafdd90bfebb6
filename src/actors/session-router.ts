import type { Logger } from 'pino';
import type { SessionAddress } from '../persistence/session-store.ts';
import { parseSessionSubject, partitionSubject } from '../transport/subjects.ts';
import type { Subscription, Transport } from '../transport/transport.ts';
import type { ActorHost, CommandResult, SessionCommand } from './actor-host.ts';

/**
 * Connects the partitions a node owns to its actor host: `in` notices ("inbound rows are committed")
 * and `cmd` requests (agent commands, answered with the result) for every session in them.
 */
export class SessionRouter {
  readonly #subscriptions: Subscription[] = [];

  constructor(
    private readonly transport: Transport,
    private readonly host: ActorHost,
    private readonly logger: Logger,
  ) {}

  own(partitions: readonly number[]): void {
    for (const partition of partitions) {
      this.#subscriptions.push(
        this.transport.subscribe(partitionSubject(partition, 'in'), (message) => {
          const address = addressOf(message.subject);
          if (!address) return;
          this.host.deliverInbound(address).catch(() => undefined);
        }),
        this.transport.subscribe(partitionSubject(partition, 'cmd'), async (message) => {
          const address = addressOf(message.subject);
          if (!address || !message.respond) return;
          try {
            const result = await this.host.command(address, message.payload as SessionCommand);
            message.respond(result);
          } catch (error) {
            this.logger.error({ err: error, ...address }, 'command failed');
            message.respond({ ok: false, error: 'unavailable' });
          }
        }),
      );
    }
  }

  close(): void {
    for (const subscription of this.#subscriptions.splice(0)) subscription.unsubscribe();
  }
}

function addressOf(subject: string): SessionAddress | undefined {
  const parsed = parseSessionSubject(subject);
  return (
    parsed && { workspaceId: parsed.workspaceId, partition: parsed.partition, sessionKey: parsed.sessionKey }
  );
}

export type RoutedCommandResult = CommandResult | { ok: false; error: 'unavailable' };
