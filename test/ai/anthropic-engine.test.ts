import type { TextBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';
import type { SessionContext } from '../../src/machines/session.ts';
import { type FakeMessagesApi, startFakeMessagesApi, toolUse } from '../support/fake-messages-api.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { postWebhook, signed, textMessagesWebhook, WEBHOOK_ENV } from '../support/meta-webhook.ts';

/**
 * With ANTHROPIC_API_KEY set the engine answers through Claude, at ANTHROPIC_BASE_URL when given: here a real
 * HTTP server speaking the Messages API. A signed webhook goes in; the reply the "model" wrote comes out.
 */
const DEMO_NUMBER = '106540352242922';
const API_KEY = 'sk-ant-api03-engine-test-0123456789';

describe('the engine with ANTHROPIC_API_KEY set', () => {
  let fake: FakeMessagesApi;
  let gateway: TestGateway;
  let wamid = 0;

  beforeAll(async () => {
    fake = await startFakeMessagesApi();
    gateway = await startTestGateway({
      config: await loadConfig('botrelic.yaml', {}),
      agent: 'real',
      env: { ...WEBHOOK_ENV, ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: fake.url },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await fake?.close();
  });

  async function say(waId: string, text: string) {
    const webhook = textMessagesWebhook(
      [{ from: waId, wamid: `wamid.claude-${++wamid}`, text, sentAt: gateway.clock.now() }],
      DEMO_NUMBER,
    );
    expect((await postWebhook(gateway.baseUrl, signed(webhook))).status).toBe(200);
    const deadline = Date.now() + 10_000;
    for (;;) {
      await gateway.settle();
      const session = await sessionOf(waId);
      if (session && session.state !== 'ai_responding') return session;
      if (Date.now() > deadline) throw new Error(`session of ${waId} still composing`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const sessionOf = (waId: string) =>
    gateway.database.db
      .selectFrom('sessions')
      .selectAll()
      .where('workspace_id', '=', 'demo')
      .where('customer_wa_id', '=', waId)
      .executeTakeFirst();

  const outbound = (waId: string) =>
    gateway.database.db
      .selectFrom('messages')
      .select(['author', 'body'])
      .where('customer_wa_id', '=', waId)
      .where('direction', '=', 'out')
      .orderBy('id')
      .execute();

  /** The passage ids the engine put in the system prompt: what the "model" may cite. */
  const passageIds = (system: TextBlockParam[]): string[] =>
    [...system[1]!.text.matchAll(/<passage id="([^"]+)"/g)].map((match) => match[1]!);

  it('answers through the Messages API at ANTHROPIC_BASE_URL, with the key, the workspace model and its passages', async () => {
    fake.enqueue((sent) => ({
      content: [
        toolUse('answer_customer', {
          reply: 'Claude here: we open at 7:00 on weekdays.',
          confidence: 0.92,
          citations: passageIds(sent.body.system as TextBlockParam[]).slice(0, 1),
          escalate: false,
        }),
      ],
      usage: { input_tokens: 900, cache_read_input_tokens: 1_200, output_tokens: 60 },
    }));
    const waId = '34611000001';
    const session = await say(waId, 'When do you open?');

    expect(session!.state).toBe('active');
    expect(await outbound(waId)).toEqual([
      { author: 'ai', body: 'Claude here: we open at 7:00 on weekdays.' },
    ]);
    expect(fake.requests).toHaveLength(1);
    const [sent] = fake.requests;
    expect(sent!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent!.body.model).toBe('claude-sonnet-4-5');
    expect(sent!.body.messages).toEqual([{ role: 'user', content: 'When do you open?' }]);
    expect(passageIds(sent!.body.system as TextBlockParam[])[0]).toMatch(/^opening-hours-and-locations\.md#/);
    const history = (session!.snapshot as { context: SessionContext }).context.history;
    expect(history.at(-1)).toMatchObject({ kind: 'ai', confidence: 0.92 });
    // The prompt cache's usage reaches /metrics.
    expect(
      await gateway.metric('botrelic_ai_tokens_total{model="claude-sonnet-4-5",kind="cache_read"}'),
    ).toBe(1_200);
    expect(await gateway.metric('botrelic_ai_tokens_total{model="claude-sonnet-4-5",kind="input"}')).toBe(
      900,
    );
  });

  it('hands off when Claude escalates, with the usage in the decision', async () => {
    fake.enqueue({
      content: [
        toolUse('answer_customer', {
          reply: '',
          confidence: 0.2,
          citations: [],
          escalate: true,
          escalate_reason: 'customer_request',
        }),
      ],
    });
    const waId = '34611000002';
    const session = await say(waId, 'This is the third time my order is wrong, I am really upset');

    expect(session!.state).toBe('fallback');
    const history = (session!.snapshot as { context: SessionContext }).context.history;
    expect(history.findLast((entry) => entry.kind === 'fallback')).toMatchObject({
      reason: 'customer_request',
      evidence: { rule: 'model_escalated', usage: { calls: 1, input: 100, output: 20 } },
    });
    expect((await outbound(waId)).map((message) => message.author)).toEqual(['system']);
  });
});
