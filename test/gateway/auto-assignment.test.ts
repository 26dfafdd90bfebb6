import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import type { InboxView } from '../../src/gateway/agent-api-schemas.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';
import { ACME_NUMBER } from '../support/test-config.ts';

const TOKENS = {
  alice: 'alice-token-0123456789',
  carol: 'carol-token-0123456789',
  dave: 'dave-token-01234567890',
};

/** Auto-assignment through the whole engine: availability from the API, takeovers through the sessions. */
describe('auto-assignment', () => {
  let database: TestDatabase;
  let transport: TestTransport;
  let harness: TestEngine;
  let customer = 4_918_000_000_000;

  beforeAll(async () => {
    database = await createTestDatabase();
    transport = await connectTestTransport();
    const config = botrelicConfigSchema.parse({
      workspaces: [
        {
          id: 'acme',
          name: 'Acme',
          phoneNumbers: [{ phoneNumberId: ACME_NUMBER, mode: 'sandbox' }],
          humanTeams: [
            {
              id: 'support',
              agents: [
                { id: 'alice', name: 'Alice', token: TOKENS.alice },
                { id: 'carol', name: 'Carol', token: TOKENS.carol },
              ],
            },
            // Dave's own capacity overrides the workspace's.
            { id: 'billing', agents: [{ id: 'dave', name: 'Dave', token: TOKENS.dave, capacity: 2 }] },
          ],
          handoff: { autoAssign: true, capacity: 1, rules: [{ keyword: 'refund', team: 'billing' }] },
          sessions: { inactivityTimeout: '3d', handoffTimeout: '3d', humanInactivityTimeout: '3d' },
        },
      ],
    });
    harness = await startTestEngine({ database, transport: transport.transport, config });
  });

  afterAll(async () => {
    await harness?.stop();
    await transport?.close();
    await database?.close();
  });

  async function post(agent: keyof typeof TOKENS, url: string, body?: object) {
    const response = await harness.engine.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${TOKENS[agent]}` },
      ...(body ? { payload: body } : {}),
    });
    return { status: response.statusCode, body: response.json() };
  }

  /** Every waiting session of the inbox, whichever team's queue it is in. */
  const waitingIds = (view: InboxView) =>
    view.queues.flatMap((queue) => queue.waiting.map((summary) => summary.sessionId));

  async function inbox(agent: keyof typeof TOKENS): Promise<InboxView> {
    const response = await harness.engine.app.inject({
      url: '/api/inbox',
      headers: { authorization: `Bearer ${TOKENS[agent]}` },
    });
    return response.json();
  }

  async function handedOff(text: string): Promise<string> {
    const waId = String(++customer);
    await harness.customerSays('acme', ACME_NUMBER, waId, text);
    await harness.agent.fallback('keyword');
    return until(async () => {
      const row = await database.db
        .selectFrom('sessions')
        .select(['id', 'state'])
        .where('customer_wa_id', '=', waId)
        .executeTakeFirst();
      return row && row.state !== 'ai_responding' ? row.id : undefined;
    });
  }

  async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
    for (let attempt = 0; attempt < 300; attempt++) {
      const value = await read();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('timed out');
  }

  const ownerOf = async (sessionId: string) => {
    const view = await inbox('alice');
    const session = [...view.mine, ...view.others].find((summary) => summary.sessionId === sessionId);
    return session?.handoff?.agentId ?? null;
  };

  it('leaves sessions waiting while nobody is available', async () => {
    const sessionId = await handedOff('a human please');
    await harness.settle();
    expect(waitingIds(await inbox('alice'))).toContain(sessionId);
    expect((await inbox('alice')).agent.available).toBe(false);
  });

  it("hands a team's queue round-robin to its available agents, up to their capacity", async () => {
    const waitingBefore = waitingIds(await inbox('alice'));
    expect(await post('alice', '/api/agents/me/availability', { available: true })).toEqual({
      status: 200,
      body: { agentId: 'alice', available: true },
    });
    expect((await inbox('alice')).agent.available).toBe(true);
    // The session that was waiting goes to Alice as soon as she is available.
    await until(async () => ((await ownerOf(waitingBefore[0]!)) === 'alice' ? true : undefined));

    await post('carol', '/api/agents/me/availability', { available: true });
    const second = await handedOff('human');
    await until(async () => ((await ownerOf(second)) === 'carol' ? true : undefined));

    // Both are at capacity (1): the next one waits, and no billing session goes to support.
    const third = await handedOff('human');
    const refund = await handedOff('a human for my refund');
    await harness.settle();
    const waiting = waitingIds(await inbox('alice'));
    expect(waiting).toEqual(expect.arrayContaining([third, refund]));

    // Alice closes hers: her capacity frees up and the oldest waiting support session comes to her.
    expect((await post('alice', `/api/sessions/${waitingBefore[0]}/close`)).status).toBe(200);
    await until(async () => ((await ownerOf(third)) === 'alice' ? true : undefined));
    expect(waitingIds(await inbox('alice'))).toEqual([refund]);

    await post('dave', '/api/agents/me/availability', { available: true });
    await until(async () => ((await ownerOf(refund)) === 'dave' ? true : undefined));
  });

  it('fills an agent up to their own capacity when the config gives one', async () => {
    // Dave holds the refund above; his capacity is 2 where the workspace's is 1.
    const second = await handedOff('a human about a refund');
    await until(async () => ((await ownerOf(second)) === 'dave' ? true : undefined));
    const third = await handedOff('refund, a human please');
    await harness.settle();
    expect(await ownerOf(third)).toBeNull();
    expect(waitingIds(await inbox('dave'))).toContain(third);
  });

  it('refuses an availability that is not a boolean', async () => {
    const response = await post('alice', '/api/agents/me/availability', { available: 'yes' });
    expect([response.status, response.body.error]).toEqual([400, 'invalid_request']);
  });
});
