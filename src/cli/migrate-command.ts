import type { Environment } from '../config/environment.ts';
import { createDatabase } from '../persistence/database.ts';
import { migrateToLatest } from '../persistence/migrate.ts';

/** `botrelic migrate`: applies the migrations the database lacks (`DATABASE_URL`, or PGlite in the data dir). */
export async function migrateCommand(env: Environment): Promise<number> {
  const database = env.DATABASE_URL
    ? await createDatabase({ url: env.DATABASE_URL })
    : await createDatabase({ dataDir: env.BOTRELIC_DATA_DIR });
  try {
    const applied = await migrateToLatest(database.db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
  } finally {
    await database.close();
  }
  return 0;
}
