import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplyAgent } from '../../src/ai/reply-agent.ts';
import type { SessionContext } from '../../src/machines/session.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';
import { ACME_NUMBER, testConfig } from '../support/test-config.ts';

/**
 * The agent port promises never to throw, but a broken adapter must not leave a session composing forever: the
 * host turns a rejected reply into the `ai_error` fallback, and the customer is told a person will answer.
 */
const rejecting: ReplyAgent = {
  generateReply: async () => {
    throw new Error('the model adapter exploded');
  },
};
// Not even a promise: a throw before the adapter's first await.
const throwing: ReplyAgent = {
  generateReply: () => {
    throw new Error('the model adapter exploded');
  },
};

describe.each([
  { how: 'rejects', agent: rejecting },
  { how: 'throws synchronously', agent: throwing },
])('an AI agent that $how, through the host', ({ agent }) => {
  let database: TestDatabase;
  let transport: TestTransport;
  let harness: TestEngine;

  beforeAll(async () => {
    database = await createTestDatabase();
    transport = await connectTestTransport();
    harness = await startTestEngine({ database, transport: transport.transport, agent });
  });

  afterAll(async () => {
    await harness?.stop();
    await transport?.close();
    await database?.close();
  });

  it('becomes an ai_error fallback, recorded with the error, and the handoff message goes out', async () => {
    const address = await harness.customerSays('acme', ACME_NUMBER, '34622000001', 'Where is my order?');
    const row = await database.db
      .selectFrom('sessions')
      .selectAll()
      .where('workspace_id', '=', 'acme')
      .where('session_key', '=', address.sessionKey)
      .executeTakeFirstOrThrow();
    const { context } = row.snapshot as { context: SessionContext };

    expect(row.state).toBe('fallback');
    expect(context.handoff).toMatchObject({ reason: 'ai_error' });
    expect(context.history.findLast((entry) => entry.kind === 'fallback')).toMatchObject({
      reason: 'ai_error',
      evidence: { error: 'the model adapter exploded' },
    });
    const sent = await database.db
      .selectFrom('messages')
      .select(['author', 'body'])
      .where('session_id', '=', row.id)
      .where('direction', '=', 'out')
      .execute();
    expect(sent).toEqual([{ author: 'system', body: testConfig().workspaces[0]!.fallback.message }]);
  });
});
