import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.ts';

/** Every migration, by name, in the order they apply. Imported statically so tsx and bundlers see them. */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-initial': { up: initial.up },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
