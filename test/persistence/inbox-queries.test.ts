import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInboxQueries, SESSION_EVENTS_LIMIT } from '../../src/persistence/inbox-queries.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ACME_NUMBER, testConfig } from '../support/test-config.ts';

describe('inbox queries', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    await syncWorkspaces(database.db, testConfig());
  });

  afterAll(async () => {
    await database?.close();
  });

  it("reads a long session's newest events, in commit order, so its latest decisions are never cut off", async () => {
    await database.db
      .insertInto('sessions')
      .values({
        id: 'long-session',
        workspace_id: 'acme',
        session_key: `${ACME_NUMBER}-1`,
        partition: 1,
        phone_number_id: ACME_NUMBER,
        customer_wa_id: '1',
        state: 'active',
        snapshot: '{}',
        machine_version: 1,
        version: 1,
        created_at: new Date(),
        updated_at: new Date(),
      })
      .execute();
    const total = SESSION_EVENTS_LIMIT + 3;
    await database.db
      .insertInto('session_events')
      .values(
        Array.from({ length: total }, (_, n) => ({
          workspace_id: 'acme',
          session_id: 'long-session',
          payload: JSON.stringify({ n }),
        })),
      )
      .execute();

    const events = await createInboxQueries(database.db).listSessionEvents('acme', 'long-session');
    const numbers = events.map((event) => (event.payload as { n: number }).n);
    expect(numbers).toHaveLength(SESSION_EVENTS_LIMIT);
    expect(numbers[0]).toBe(3);
    expect(numbers.at(-1)).toBe(total - 1);
    expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1)).toBe(true);
  });
});
