import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import type { BotrelicConfig } from '../../src/config/workspace-config.ts';
import type { SessionContext } from '../../src/machines/session.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { postWebhook, signed, textMessagesWebhook } from '../support/meta-webhook.ts';
import { type JsonPath, metaFixture, withValueAt } from '../whatsapp/meta-fixtures.ts';

/**
 * The shipped demo workspace, through the whole engine: a signed webhook in, the real offline agent
 * answering from kb/demo, and the reply or the handoff out (its number is a sandbox number, so replies
 * land in the sandbox outbox, never at Meta).
 */
const DEMO_NUMBER = '106540352242922';
const MESSAGE: JsonPath = ['entry', 0, 'changes', 0, 'value', 'messages', 0];

describe('the demo workspace, offline, end to end', () => {
  let gateway: TestGateway;
  let config: BotrelicConfig;
  let handoffMessage: string;
  let customer = 34_600_000_000;
  let wamid = 0;

  beforeAll(async () => {
    config = await loadConfig('botrelic.yaml', {});
    handoffMessage = config.workspaces[0]!.fallback.message;
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

  /** A Meta fixture as this customer's message, sent now, with any other field changed by `edit`. */
  async function sendFixture(name: string, waId: string, edit: (fixture: unknown) => unknown = (f) => f) {
    let fixture = withValueAt(metaFixture(name), [...MESSAGE, 'from'], waId);
    fixture = withValueAt(fixture, ['entry', 0, 'changes', 0, 'value', 'contacts', 0, 'wa_id'], waId);
    fixture = withValueAt(fixture, [...MESSAGE, 'id'], `wamid.demo-${++wamid}`);
    fixture = withValueAt(fixture, [...MESSAGE, 'timestamp'], String(Math.floor(gateway.clock.now() / 1000)));
    const response = await postWebhook(gateway.baseUrl, signed(edit(fixture) as object));
    expect(response.status).toBe(200);
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
    const session = (await sessionOf(waId))!;
    expect(session.state).toBe('active');

    // Why it answered is recorded with the answer, and the person working the session sees it.
    const answer = (session.snapshot as { context: SessionContext }).context.history.find(
      (entry) => entry.kind === 'ai',
    );
    expect(answer?.evidence).toMatchObject({
      rule: 'answered',
      weak: false,
      threshold: 0.55,
    });
    const hits = (answer!.evidence as { hits: { id: string; score: number }[] }).hits;
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]).toEqual({ id: expect.stringMatching(/^opening-hours/), score: answer!.confidence });
    const token = config.workspaces[0]!.humanTeams[0]!.agents[0]!.token;
    const view = await fetch(`${gateway.baseUrl}/api/sessions/${session.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(view.status).toBe(200);
    const { decisions } = (await view.json()) as { decisions: unknown[] };
    expect(decisions).toEqual([expect.objectContaining({ kind: 'ai', evidence: answer!.evidence })]);
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

  it('hands off on media the agent does not handle, and tells the customer', async () => {
    const waId = String(++customer);
    await sendFixture('image-message.json', waId);
    expect((await sessionOf(waId))!.state).toBe('fallback');
    expect(await lastFallback(waId)).toMatchObject({ reason: 'unsupported', evidence: { type: 'image' } });
    expect(await outbound(waId)).toEqual([{ author: 'system', body: handoffMessage }]);
  });

  it('hands off when its confidence is under the workspace threshold, and tells the customer', async () => {
    const waId = String(++customer);
    await say(waId, 'Do you deliver to Canada?');
    expect((await sessionOf(waId))!.state).toBe('fallback');
    expect(await lastFallback(waId)).toMatchObject({ reason: 'low_confidence' });
    expect(await outbound(waId)).toEqual([{ author: 'system', body: handoffMessage }]);
  });

  it('hands off on a "talk to a person" button known by its id, whatever its title says', async () => {
    expect(config.workspaces[0]!.fallback.humanRequestIds).toContain('talk_to_human');
    const waId = String(++customer);
    await sendFixture('interactive-button-reply.json', waId, (fixture) =>
      withValueAt(fixture, [...MESSAGE, 'interactive', 'button_reply'], {
        id: 'talk_to_human',
        title: 'Necesito ayuda 🙋',
      }),
    );
    expect((await sessionOf(waId))!.state).toBe('fallback');
    expect(await lastFallback(waId)).toMatchObject({
      reason: 'customer_request',
      evidence: { rule: 'human_request_button', button: 'talk_to_human', replyId: 'talk_to_human' },
    });
    expect(await outbound(waId)).toEqual([{ author: 'system', body: handoffMessage }]);
  });

  it('hands off after weak answers in a row, as scenarios/low-confidence-loop.yaml tells it', async () => {
    expect(config.workspaces[0]!.fallback.maxLowConfidenceTurns).toBe(2);
    const waId = String(++customer);
    await say(waId, 'Can I bring my dog inside?');
    const first = (await sessionOf(waId))!;
    expect(first.state).toBe('active');
    const weak = (first.snapshot as { context: SessionContext }).context.history.find(
      (entry) => entry.kind === 'ai',
    );
    expect(weak?.evidence).toMatchObject({ rule: 'answered', weak: true });

    await say(waId, 'Can I order by phone?');
    expect((await sessionOf(waId))!.state).toBe('fallback');
    expect(await lastFallback(waId)).toMatchObject({
      reason: 'loop',
      evidence: { rule: 'low_confidence_streak', weakAnswersInARow: 2, maxLowConfidenceTurns: 2 },
    });
    expect((await outbound(waId)).map((m) => m.author)).toEqual(['ai', 'system']);
    expect((await outbound(waId)).at(-1)!.body).toBe(handoffMessage);
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
