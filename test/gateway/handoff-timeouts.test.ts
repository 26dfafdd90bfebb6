import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionView } from '../../src/gateway/agent-api-schemas.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';
import { ACME_NUMBER, testConfig } from '../support/test-config.ts';

const ALICE = 'alice-token-0123456789';
const MINUTE = 60_000;
/** Nothing like the default text, so only the workspace's setting can have produced it. */
const WAIT_TEXT =
  'Acme here: all our people are with other customers. Keep this chat open, one of them is coming.';

function handoffConfig(onHandoffTimeout: 'keep_waiting' | 'close') {
  const config = testConfig({ onHandoffTimeout });
  config.workspaces[0]!.sessions.handoffTimeoutMessage = WAIT_TEXT;
  return config;
}

/** Nobody takes the session, or the agent goes quiet: the workspace's timeouts, through the whole engine. */
describe.each(['keep_waiting', 'close'] as const)(
  'handoff timeouts (onHandoffTimeout=%s)',
  (onHandoffTimeout) => {
    let database: TestDatabase;
    let transport: TestTransport;
    let harness: TestEngine;
    let customer = 4_917_000_000_000 + (onHandoffTimeout === 'close' ? 500 : 0);

    beforeAll(async () => {
      database = await createTestDatabase();
      transport = await connectTestTransport();
      harness = await startTestEngine({
        database,
        transport: transport.transport,
        config: handoffConfig(onHandoffTimeout),
      });
    });

    afterAll(async () => {
      await harness?.stop();
      await transport?.close();
      await database?.close();
    });

    async function post(url: string, body?: object) {
      const response = await harness.engine.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${ALICE}` },
        ...(body ? { payload: body } : {}),
      });
      return response.statusCode;
    }

    async function view(sessionId: string): Promise<SessionView> {
      const response = await harness.engine.app.inject({
        url: `/api/sessions/${sessionId}`,
        headers: { authorization: `Bearer ${ALICE}` },
      });
      return response.json();
    }

    async function waitingSession(): Promise<string> {
      const waId = String(++customer);
      await harness.customerSays('acme', ACME_NUMBER, waId, 'a human please');
      await harness.agent.fallback('keyword');
      for (;;) {
        const row = await database.db
          .selectFrom('sessions')
          .select(['id', 'state'])
          .where('customer_wa_id', '=', waId)
          .executeTakeFirst();
        if (row?.state === 'fallback') return row.id;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    const systemTexts = (session: SessionView) =>
      session.transcript.filter((message) => message.author === 'system').map((message) => message.text);

    it('tells the customer the configured text when nobody takes the session within handoffTimeout', async () => {
      const sessionId = await waitingSession();
      await harness.advance(15 * MINUTE - 1);
      expect(systemTexts(await view(sessionId))).toEqual(['Let me connect you with our team.']);

      await harness.advance(1);
      const session = await view(sessionId);
      expect(systemTexts(session)).toEqual(['Let me connect you with our team.', WAIT_TEXT]);
      // What goes to WhatsApp is the configured text, word for word.
      const sent = await database.db
        .selectFrom('outbox')
        .select('payload')
        .where('session_id', '=', sessionId)
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      expect(sent.payload).toEqual({ type: 'text', text: { body: WAIT_TEXT } });
      if (onHandoffTimeout === 'keep_waiting') {
        expect(session.session.state).toBe('fallback');
        expect(session.session.handoff?.customerNotifiedAt).toBe(harness.clock.now());
        expect(session.handoffHistory.map((step) => step.kind)).toEqual([
          'requested',
          'customer_told_to_wait',
        ]);
        // Still in the queue: an agent can take it.
        expect(await post(`/api/sessions/${sessionId}/takeover`)).toBe(200);
      } else {
        expect(session.session).toMatchObject({ state: 'closed', closedReason: 'handoff_timeout' });
      }
    });

    it('closes a taken session after humanInactivityTimeout without a word from the agent', async () => {
      const sessionId = await waitingSession();
      expect(await post(`/api/sessions/${sessionId}/takeover`)).toBe(200);
      await harness.advance(20 * MINUTE);
      // The agent's reply restarts the inactivity clock.
      expect(await post(`/api/sessions/${sessionId}/messages`, { text: 'Looking into it' })).toBe(202);
      await harness.advance(29 * MINUTE);
      expect((await view(sessionId)).session.state).toBe('human');
      await harness.advance(1 * MINUTE);
      expect((await view(sessionId)).session).toMatchObject({
        state: 'closed',
        closedReason: 'human_inactivity',
      });
    });
  },
);
