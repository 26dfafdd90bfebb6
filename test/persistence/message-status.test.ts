import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatusAdvancer } from '../../src/persistence/message-status.ts';
import { createPgliteTestDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';

describe.each([
  { adapter: 'default', openDatabase: createTestDatabase },
  { adapter: 'pglite', openDatabase: createPgliteTestDatabase },
])('batched status advances on $adapter', ({ openDatabase }) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openDatabase();
    const { db } = database;
    await db
      .insertInto('workspaces')
      .values([
        { id: 'acme', name: 'Acme' },
        { id: 'globex', name: 'Globex' },
      ])
      .execute();
    for (const [workspaceId, wamid] of [
      ['acme', 'wamid.one'],
      ['acme', 'wamid.two'],
      ['globex', 'wamid.one'],
    ] as const) {
      await db
        .insertInto('messages')
        .values({
          workspace_id: workspaceId,
          session_key: '100001-31600000001',
          partition: 3,
          direction: 'out',
          author: 'ai',
          wamid,
          phone_number_id: '100001',
          customer_wa_id: '31600000001',
          type: 'text',
          body: 'hi',
          payload: JSON.stringify({ type: 'text', text: { body: 'hi' } }),
          sent_at: new Date(),
          status: 'sent',
        })
        .execute();
    }
  });

  afterAll(async () => {
    await database?.close();
  });

  it('applies concurrent changes as each alone would: forward only, per workspace, in arrival order', async () => {
    const advance = createStatusAdvancer(database.db);
    const none = { error: null };
    const results = await Promise.all([
      advance({ workspaceId: 'acme', wamid: 'wamid.two', status: 'delivered', ...none }),
      // Queued behind the first: these three go in one batch, read before delivered for wamid.one.
      advance({ workspaceId: 'acme', wamid: 'wamid.one', status: 'read', ...none }),
      advance({ workspaceId: 'acme', wamid: 'wamid.one', status: 'delivered', ...none }),
      advance({
        workspaceId: 'globex',
        wamid: 'wamid.one',
        status: 'failed',
        error: { code: 131026, title: 'Undeliverable' },
      }),
      advance({ workspaceId: 'acme', wamid: 'wamid.unknown', status: 'read', ...none }),
    ]);
    expect(results.map((result) => result?.sessionKey ?? null)).toEqual([
      '100001-31600000001',
      '100001-31600000001',
      null,
      '100001-31600000001',
      null,
    ]);
    const { rows } = await sql<{
      workspace_id: string;
      wamid: string;
      status: string;
      error_code: number | null;
    }>`
      select workspace_id, wamid, status, error_code from messages order by workspace_id, wamid`.execute(
      database.db,
    );
    expect(rows).toEqual([
      { workspace_id: 'acme', wamid: 'wamid.one', status: 'read', error_code: null },
      { workspace_id: 'acme', wamid: 'wamid.two', status: 'delivered', error_code: null },
      { workspace_id: 'globex', wamid: 'wamid.one', status: 'failed', error_code: 131026 },
    ]);
  });
});
