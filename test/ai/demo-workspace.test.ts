import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import type { SessionContext } from '../../src/machines/session.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { postWebhook, signed, textMessagesWebhook } from '../support/meta-webhook.ts';
import { metaFixture, withValueAt } from '../whatsapp/meta-fixtures.ts';

/**
 * The shipped demo workspace, through the whole engine: a signed webhook in, the real offline agent
 * answering from kb/demo, and the reply or the handoff out (its number is a sandbox number, so replies
 * land in the sandbox outbox, never at Meta).
 */
const DEMO_NUMBER = '106540352242922';

describe('the demo workspace, offline, end to end', () => {
  let gateway: TestGateway;
  let customer = 34_600_000_000;
  let wamid = 0;

  beforeAll(async () => {
    const config = await loadConfig('botrelic.yaml', {});
    gateway = await startTestGateway({ config, agent: 'real' });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  async function say(waId: string, text: string) {
    const response = await postWebhook(
      gateway.baseUrl,
      signed(
        textMessagesWebhook(
          [{ from: waId, wamid: `wamid.demo-${++wamid}`, text, sentAt: gateway.clock.now() }],
          DEMO_NUMBER,
        ),
      ),
    );
    expect(response.status).toBe(200);
    await gateway.settle();
    // The offline agent answers on its own: wait for the reply or handoff to be committed.
    await waitUntilSettled(waId);
  }

  async function waitUntilSettled(waId: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      await gateway.settle();
      const row = await sessionOf(waId);
      if (row && row.state !== 'ai_responding') return;
      if (Date.now() > deadline) throw new Error(`session of ${waId} still composing`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  function sessionOf(waId: string) {
    return gateway.database.db
      .selectFrom('sessions')
      .selectAll()
      .where('workspace_id', '=', 'demo')
      .where('customer_wa_id', '=', waId)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
  }

  async function outbound(waId: string) {
    const rows = await gateway.database.db
      .selectFrom('messages')
      .select(['body', 'author'])
      .where('workspace_id', '=', 'demo')
      .where('customer_wa_id', '=', waId)
      .where('direction', '=', 'out')
      .orderBy('id')
      .execute();
    return rows;
  }

  async function lastFallback(waId: string) {
    const row = await sessionOf(waId);
    const history = (row!.snapshot as { context: SessionContext }).context.history;
    return history.filter((entry) => entry.kind === 'fallback').at(-1);
  }

  it('answers a knowledge-base question with the fact, briefly', async () => {
    const waId = String(++customer);
    await say(waId, 'What are your opening hours?');
    const [reply] = await outbound(waId);
    expect(reply!.author).toBe('ai');
    expect(reply!.body).toContain('Monday to Friday: 7:00 – 19:00');
    expect(reply!.body!.length).toBeLessThanOrEqual(500);
    expect((await sessionOf(waId))!.state).toBe('active');
  });

  it('hands off on an escalation keyword, in English and in Spanish', async () => {
    for (const text of ['Can I talk to a real person please', 'Quiero hablar con un humano']) {
      const waId = String(++customer);
      await say(waId, text);
      expect((await sessionOf(waId))!.state).toBe('fallback');
      expect(await lastFallback(waId)).toMatchObject({ reason: 'keyword' });
      expect((await outbound(waId)).map((m) => m.author)).toEqual(['system']);
    }
  });

  it('hands off on media the agent does not handle', async () => {
    const waId = String(++customer);
    let image = withValueAt(
      metaFixture('image-message.json'),
      ['entry', 0, 'changes', 0, 'value', 'messages', 0, 'from'],
      waId,
    );
    image = withValueAt(image, ['entry', 0, 'changes', 0, 'value', 'contacts', 0, 'wa_id'], waId);
    image = withValueAt(
      image,
      ['entry', 0, 'changes', 0, 'value', 'messages', 0, 'timestamp'],
      String(Math.floor(gateway.clock.now() / 1000)),
    );
    expect((await postWebhook(gateway.baseUrl, signed(image as object))).status).toBe(200);
    await waitUntilSettled(waId);
    expect((await sessionOf(waId))!.state).toBe('fallback');
    expect(await lastFallback(waId)).toMatchObject({ reason: 'unsupported' });
  });

  it('hands off when its confidence is under the workspace threshold', async () => {
    const waId = String(++customer);
    await say(waId, 'Do you deliver to Canada?');
    expect((await sessionOf(waId))!.state).toBe('fallback');
    expect(await lastFallback(waId)).toMatchObject({ reason: 'low_confidence' });
  });

  it('hands off when the customer repeats a question it already answered', async () => {
    const waId = String(++customer);
    await say(waId, 'Is there wifi in the cafe?');
    expect((await outbound(waId)).map((m) => m.author)).toEqual(['ai']);
    await say(waId, 'Is there wifi in the cafe?');
    expect((await sessionOf(waId))!.state).toBe('fallback');
    expect(await lastFallback(waId)).toMatchObject({ reason: 'loop' });
  });
});
