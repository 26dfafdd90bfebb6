import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.ts';
import * as knowledge from './0002-knowledge.ts';
import * as agentAvailability from './0003-agent-availability.ts';
import * as outboxDelivery from './0004-outbox-delivery.ts';
import * as messageDetailsAndStatusFollowups from './0005-message-details-and-status-followups.ts';
import * as agentTokensAndCapacity from './0006-agent-tokens-and-capacity.ts';

/** Every migration, by name, in the order they apply. Imported statically so tsx and bundlers see them. */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-initial': { up: initial.up },
  '0002-knowledge': { up: knowledge.up },
  '0003-agent-availability': { up: agentAvailability.up },
  '0004-outbox-delivery': { up: outboxDelivery.up },
  '0005-message-details-and-status-followups': { up: messageDetailsAndStatusFollowups.up },
  '0006-agent-tokens-and-capacity': { up: agentTokensAndCapacity.up },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
