import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionContext } from '../../src/machines/session.ts';
import { FIXTURE_TIME, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { postWebhook, signed, textMessagesWebhook } from '../support/meta-webhook.ts';
import { ACME_NUMBER } from '../support/test-config.ts';

/**
 * Issue 3: within a session, order by Meta's timestamp, not arrival. Across webhooks too: a message sent first
 * may come in a later webhook, while the AI is already composing an answer to the one sent after it.
 */
describe('messages of one turn arriving in separate webhooks, out of order', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway();
  });

  afterAll(async () => {
    await gateway?.close();
  });

  async function deliver(waId: string, wamid: string, text: string, sentAt: number) {
    const response = await postWebhook(
      gateway.baseUrl,
      signed(textMessagesWebhook([{ from: waId, wamid, text, sentAt }])),
    );
    expect(response.status).toBe(200);
    // The rows are committed before the 200: applying them now makes the wait deterministic.
    const address = gateway.engine.sessions.addressOf('acme', ACME_NUMBER, waId);
    await gateway.engine.host.deliverInbound(address);
    return address;
  }

  it('are read by the AI and kept in the history in the order the customer sent them', async () => {
    const waId = '16505550100';
    const sent = FIXTURE_TIME - 10_000;
    await deliver(waId, 'wamid.order-third', 'third', sent + 3_000);
    const composing = await gateway.agent.nextCall();
    expect(composing.request.unanswered.map((message) => message.text)).toEqual(['third']);

    const address = await deliver(waId, 'wamid.order-first', 'first', sent + 1_000);
    expect(composing.signal.aborted).toBe(true);
    const request = await gateway.agent.reply('One answer to both.');
    await gateway.settle();
    expect(request.unanswered.map((message) => message.text)).toEqual(['first', 'third']);

    const row = await gateway.database.db
      .selectFrom('sessions')
      .select('snapshot')
      .where('workspace_id', '=', 'acme')
      .where('session_key', '=', address.sessionKey)
      .executeTakeFirstOrThrow();
    const { history } = (row.snapshot as { context: SessionContext }).context;
    expect(history.map((entry) => ('text' in entry ? entry.text : entry.kind))).toEqual([
      'first',
      'third',
      'One answer to both.',
    ]);
    expect(history.slice(0, 2)).toMatchObject([
      { kind: 'customer', sentAt: sent + 1_000 },
      { kind: 'customer', sentAt: sent + 3_000 },
    ]);
  });
});
