import Anthropic from '@anthropic-ai/sdk';
import type {
  MessageCountTokensParams,
  TextBlockParam,
  ToolResultBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentSettings, agentSettingsFor } from '../../src/ai/agent-settings.ts';
import { createAiMetrics } from '../../src/ai/ai-metrics.ts';
import { type AnthropicAgentOptions, createAnthropicAgent } from '../../src/ai/anthropic-agent.ts';
import { HANDBACK_NOTE } from '../../src/ai/conversation-turns.ts';
import { normalizeText } from '../../src/ai/fallback-rules.ts';
import type { ReplyOutcome } from '../../src/ai/reply-agent.ts';
import { tokensOf } from '../../src/ai/token-usage.ts';
import type { KnowledgeChunk, KnowledgeHit, KnowledgeSearch } from '../../src/knowledge/knowledge-search.ts';
import type { HistoryEntry, ReplyRequest } from '../../src/machines/session.ts';
import {
  apiError,
  type FakeMessagesApi,
  type FakeResponse,
  type RecordedRequest,
  startFakeMessagesApi,
  toolUse,
} from '../support/fake-messages-api.ts';
import { testConfig } from '../support/test-config.ts';

const API_KEY = 'sk-ant-api03-test-secret-0123456789';
const INSTRUCTIONS = "You are Acme Store's assistant. Be warm and brief.";

const CHUNKS: KnowledgeChunk[] = [
  {
    id: 'returns-1',
    documentId: 'returns',
    title: 'Returns',
    heading: 'Refund times',
    text: 'Refunds are paid within 5 business days after we receive the returned item.',
  },
  {
    id: 'shipping-1',
    documentId: 'shipping',
    title: 'Shipping',
    heading: 'Delivery to Peru',
    text: 'We deliver to Lima and the rest of Peru in 3 to 7 days.',
  },
  {
    id: 'hours-1',
    documentId: 'hours',
    title: 'Opening hours',
    heading: null,
    text: 'The store is open Monday to Saturday from 9:00 to 18:00.',
  },
];

/** The knowledge base port played in memory: scores a chunk by the share of the query's words it contains. */
class InMemoryKnowledge implements KnowledgeSearch {
  readonly queries: { workspaceId: string; query: string }[] = [];

  constructor(private readonly chunks: Record<string, KnowledgeChunk[]>) {}

  async search(workspaceId: string, query: string, options?: { limit?: number }): Promise<KnowledgeHit[]> {
    this.queries.push({ workspaceId, query });
    const words = new Set(normalizeText(query).split(' '));
    return (this.chunks[workspaceId] ?? [])
      .map((chunk) => {
        const text = new Set(normalizeText(`${chunk.title} ${chunk.heading ?? ''} ${chunk.text}`).split(' '));
        const shared = [...words].filter((word) => word.length > 3 && text.has(word)).length;
        return { ...chunk, score: shared / words.size };
      })
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, options?.limit ?? 5);
  }
}

const answer = (
  input: Partial<{
    reply: string;
    confidence: number;
    citations: string[];
    small_talk: boolean;
    escalate: boolean;
    escalate_reason: string;
  }>,
): FakeResponse => ({
  content: [
    toolUse('answer_customer', {
      reply: 'Refunds are paid within 5 business days.',
      confidence: 0.9,
      citations: ['returns-1'],
      small_talk: false,
      escalate: false,
      ...input,
    }),
  ],
});

const search = (query: string, id: string): FakeResponse => ({
  content: [{ type: 'text', text: 'Let me look that up.' }, toolUse('search_knowledge_base', { query }, id)],
});

let wamidCounter = 0;
function request(
  texts: string[],
  options: { history?: HistoryEntry[]; lowConfidenceStreak?: number } = {},
): ReplyRequest {
  const unanswered = texts.map((text) => ({
    wamid: `wamid.${++wamidCounter}`,
    type: 'text',
    text,
    sentAt: 0,
  }));
  return {
    sessionId: 'session-1',
    workspaceId: 'acme',
    history: [
      ...(options.history ?? []),
      ...unanswered.map(
        (m): HistoryEntry => ({ kind: 'customer', at: 0, wamid: m.wamid, type: m.type, text: m.text }),
      ),
    ],
    unanswered,
    lowConfidenceStreak: options.lowConfidenceStreak ?? 0,
  };
}

const REFUND_QUESTION = 'How long does a refund take after returning the item?';
/** What the fake reports for a call unless told otherwise. */
const ONE_CALL = { calls: 1, input: 100, cacheCreation: 0, cacheRead: 0, output: 20 };

describe('the Anthropic agent against a real HTTP server speaking the Messages API', () => {
  let fake: FakeMessagesApi;
  let knowledge: InMemoryKnowledge;
  let settings: AgentSettings;

  beforeEach(async () => {
    fake = await startFakeMessagesApi();
    knowledge = new InMemoryKnowledge({ acme: CHUNKS, globex: [] });
    const workspace = testConfig().workspaces[0]!;
    settings = {
      ...agentSettingsFor(workspace),
      instructions: INSTRUCTIONS,
      // A current model: the SDK warns on every call to a deprecated one.
      model: 'claude-haiku-4-5',
    };
  });

  afterEach(async () => {
    await fake.close();
  });

  const agentWith = (options: Partial<AnthropicAgentOptions> & { apiKey?: string } = {}) => {
    const { apiKey = API_KEY, ...rest } = options;
    return createAnthropicAgent({
      client: new Anthropic({ apiKey, baseURL: fake.url, maxRetries: 2 }),
      knowledge,
      settingsFor: (workspaceId) => {
        expect(workspaceId).toBe('acme');
        return settings;
      },
      ...rest,
    });
  };
  const reply = (
    req: ReplyRequest,
    options: Partial<AnthropicAgentOptions> = {},
    signal = new AbortController().signal,
  ) => agentWith(options).generateReply(req, signal);

  it('answers directly through answer_customer, from the passages retrieved for the question', async () => {
    fake.enqueue(answer({}));
    const outcome = await reply(request([REFUND_QUESTION]));

    expect(outcome).toEqual({
      kind: 'reply',
      text: 'Refunds are paid within 5 business days.',
      confidence: 0.9,
      lowConfidence: false,
      chunks: ['returns-1'],
      evidence: {
        rule: 'answered',
        weak: false,
        threshold: 0.55,
        hits: [{ id: 'returns-1', score: 0.3 }],
        usage: ONE_CALL,
      },
    } satisfies ReplyOutcome);
    expect(knowledge.queries).toEqual([{ workspaceId: 'acme', query: REFUND_QUESTION }]);
    expect(fake.requests).toHaveLength(1);
    const [sent] = fake.requests;
    expect(sent!.path).toBe('/v1/messages');
    // This SDK version sends the API key as a bearer token.
    expect(sent!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent!.headers['anthropic-version']).toBeTruthy();
    expect(sent!.headers['anthropic-beta']).toBeUndefined();
    expect(sent!.body).toMatchObject({
      model: 'claude-haiku-4-5',
      max_tokens: 1024,
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: REFUND_QUESTION }],
    });
    expect(sent!.body.tools!.map((tool) => 'name' in tool && tool.name)).toEqual([
      'search_knowledge_base',
      'answer_customer',
    ]);
    const passages = (sent!.body.system as TextBlockParam[])[1]!.text;
    expect(passages).toContain('<passage id="returns-1" source="Returns › Refund times">');
    expect(passages).toContain('Refunds are paid within 5 business days');
  });

  it('marks the workspace instructions block for prompt caching, and only that block', async () => {
    fake.enqueue(answer({}));
    await reply(request([REFUND_QUESTION]));

    const system = fake.requests[0]!.body.system as TextBlockParam[];
    expect(system).toHaveLength(2);
    expect(system[0]).toMatchObject({ type: 'text', cache_control: { type: 'ephemeral' } });
    expect(system[0]!.text.startsWith(INSTRUCTIONS)).toBe(true);
    expect(system[0]!.text).toContain('answer_customer');
    expect(system[1]!.cache_control).toBeUndefined();
  });

  it('keeps the cached prefix byte-identical from one turn to the next', async () => {
    fake.enqueue(answer({}), answer({ citations: ['hours-1'], reply: 'From 9:00 to 18:00.' }));
    await reply(request([REFUND_QUESTION]));
    await reply(request(['What are your opening hours on Saturday?']));

    const [first, second] = fake.requests.map((sent) => sent.body);
    expect(JSON.stringify(second!.tools)).toBe(JSON.stringify(first!.tools));
    expect((second!.system as TextBlockParam[])[0]).toEqual((first!.system as TextBlockParam[])[0]);
    expect((second!.system as TextBlockParam[])[1]).not.toEqual((first!.system as TextBlockParam[])[1]);
  });

  it('runs a search_knowledge_base call and sends the passages back as its tool_result', async () => {
    fake.enqueue(
      search('delivery Peru Lima', 'toolu_search_1'),
      answer({ reply: 'We deliver to Lima in 3 to 7 days.', citations: ['shipping-1'] }),
    );
    const outcome = await reply(request(['Do you ship to my city, Lima?']));

    expect(outcome).toMatchObject({
      kind: 'reply',
      text: 'We deliver to Lima in 3 to 7 days.',
      chunks: ['shipping-1'],
    });
    expect(knowledge.queries.map((q) => q.query)).toEqual([
      'Do you ship to my city, Lima?',
      'delivery Peru Lima',
    ]);
    expect(fake.requests).toHaveLength(2);
    const messages = fake.requests[1]!.body.messages;
    expect(messages).toHaveLength(3);
    expect(messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me look that up.' },
        {
          type: 'tool_use',
          id: 'toolu_search_1',
          name: 'search_knowledge_base',
          input: { query: 'delivery Peru Lima' },
        },
      ],
    });
    expect(messages[2]!.role).toBe('user');
    const [result] = messages[2]!.content as ToolResultBlockParam[];
    expect(result).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_search_1' });
    expect(result!.content).toContain('<passage id="shipping-1" source="Shipping › Delivery to Peru">');
    expect(result!.content).toContain('We deliver to Lima and the rest of Peru in 3 to 7 days.');
  });

  it('says so in the tool_result when a search finds nothing', async () => {
    fake.enqueue(
      search('gift wrapping', 'toolu_1'),
      answer({ escalate: true, escalate_reason: 'unsupported', reply: '' }),
    );
    await reply(request([REFUND_QUESTION]));

    const [result] = fake.requests[1]!.body.messages[2]!.content as ToolResultBlockParam[];
    expect(result!.content).toBe('No passages found.');
  });

  it('allows three searches, then makes the model answer', async () => {
    fake.enqueue(search('a refund', 't1'), search('b refund', 't2'), search('c refund', 't3'), answer({}));
    const outcome = await reply(request([REFUND_QUESTION]));

    expect(outcome).toMatchObject({ kind: 'reply' });
    expect(fake.requests).toHaveLength(4);
    expect(fake.requests.slice(0, 3).map((sent) => sent.body.tool_choice)).toEqual(
      Array(3).fill({ type: 'any', disable_parallel_tool_use: true }),
    );
    expect(fake.requests[3]!.body.tool_choice).toEqual({ type: 'tool', name: 'answer_customer' });
    expect(fake.requests[3]!.body.messages).toHaveLength(7);
  });

  it('falls back with ai_error when the model searches beyond its budget', async () => {
    fake.enqueue(search('a', 't1'), search('b', 't2'));
    const outcome = await reply(request([REFUND_QUESTION]), { maxSearches: 1 });

    expect(outcome).toMatchObject({ kind: 'fallback', reason: 'ai_error' });
    expect(fake.requests).toHaveLength(2);
  });

  it('sends the history as alternating turns, with a note where a person handed the session back', async () => {
    const history: HistoryEntry[] = [
      { kind: 'customer', at: 1, wamid: 'w1', type: 'text', text: 'Hi' },
      { kind: 'customer', at: 2, wamid: 'w2', type: 'text', text: 'I want to return my shoes' },
      { kind: 'ai', at: 3, text: 'Sure! What is your order number?', confidence: 0.9, chunks: ['returns-1'] },
      { kind: 'customer', at: 4, wamid: 'w3', type: 'image', text: 'this is the receipt' },
      { kind: 'fallback', at: 5, reason: 'unsupported', evidence: { rule: 'unsupported_type' } },
      { kind: 'agent', at: 6, agentId: 'alice', text: 'Alice here: your return is approved.' },
      { kind: 'system', at: 7, text: 'Sorry for the wait' },
      { kind: 'handback', at: 8, agentId: 'alice' },
    ];
    fake.enqueue(answer({}));
    await reply(request([REFUND_QUESTION, 'thanks'], { history }));

    expect(fake.requests[0]!.body.messages).toEqual([
      { role: 'user', content: 'Hi\nI want to return my shoes' },
      { role: 'assistant', content: 'Sure! What is your order number?' },
      { role: 'user', content: '[image] this is the receipt' },
      { role: 'assistant', content: 'Alice here: your return is approved.' },
      { role: 'user', content: `${HANDBACK_NOTE}\n${REFUND_QUESTION}\nthanks` },
    ]);
  });

  it.each([
    ['customer_request', 'customer_request'],
    ['unsupported', 'unsupported'],
    [undefined, 'unsupported'],
  ])('falls back when the model escalates with reason %s', async (modelReason, reason) => {
    fake.enqueue(
      answer({
        escalate: true,
        reply: 'Let me get someone.',
        confidence: 0.8,
        citations: [],
        escalate_reason: modelReason,
      }),
    );
    const outcome = await reply(request(['My package arrived broken and I am furious']));

    expect(outcome).toEqual({
      kind: 'fallback',
      reason,
      evidence: {
        rule: 'model_escalated',
        modelReason: modelReason ?? null,
        confidence: 0.8,
        draft: 'Let me get someone.',
        usage: ONE_CALL,
      },
    });
  });

  it('falls back with low_confidence when the model is less sure than the threshold', async () => {
    fake.enqueue(answer({ confidence: 0.3 }));
    const outcome = await reply(request([REFUND_QUESTION]));

    expect(outcome).toEqual({
      kind: 'fallback',
      reason: 'low_confidence',
      evidence: {
        rule: 'below_threshold',
        confidence: 0.3,
        threshold: 0.55,
        chunks: ['returns-1'],
        usage: ONE_CALL,
      },
    });
  });

  it('answers but flags a weak answer, and falls back once weak answers reach the limit', async () => {
    fake.enqueue(answer({ confidence: 0.6 }), answer({ confidence: 0.6 }));
    expect(await reply(request([REFUND_QUESTION]))).toMatchObject({
      kind: 'reply',
      lowConfidence: true,
      confidence: 0.6,
      evidence: { rule: 'answered', weak: true, threshold: 0.55 },
    });
    expect(await reply(request([REFUND_QUESTION], { lowConfidenceStreak: 1 }))).toMatchObject({
      kind: 'fallback',
      reason: 'loop',
      evidence: { rule: 'low_confidence_streak', weakAnswersInARow: 2 },
    });
  });

  it('falls back as unsupported when the knowledge base has nothing on the question', async () => {
    fake.enqueue(answer({ reply: 'We sell gift cards.', citations: [], confidence: 0.9 }));
    const outcome = await reply(request(['Do you sell gift cards?']));

    expect(outcome).toMatchObject({
      kind: 'fallback',
      reason: 'unsupported',
      evidence: { rule: 'no_relevant_knowledge' },
    });
  });

  it('answers small talk without knowledge', async () => {
    fake.enqueue(answer({ reply: 'Hi! How can I help?', citations: [], small_talk: true, confidence: 0.95 }));
    expect(await reply(request(['Hello!']))).toMatchObject({
      kind: 'reply',
      text: 'Hi! How can I help?',
      chunks: [],
      evidence: { rule: 'small_talk', weak: false, hits: [], usage: ONE_CALL },
    });
  });

  it('drops citations of chunks the model was never shown', async () => {
    fake.enqueue(answer({ citations: ['returns-1', 'made-up-id'] }));
    expect(await reply(request([REFUND_QUESTION]))).toMatchObject({ kind: 'reply', chunks: ['returns-1'] });
  });

  it('falls back on an escalation keyword without calling the model or the knowledge base', async () => {
    const outcome = await reply(request(['I want to talk to a HUMAN']));

    expect(outcome).toEqual({
      kind: 'fallback',
      reason: 'keyword',
      evidence: { rule: 'keyword', keyword: 'human', wamid: expect.any(String) },
    });
    expect(fake.requests).toHaveLength(0);
    expect(knowledge.queries).toHaveLength(0);
  });

  it.each([429, 529, 500] as const)('retries a %d and answers', async (status) => {
    fake.enqueue({ ...apiError(status), retryAfterMs: 5 }, answer({}));
    const outcome = await reply(request([REFUND_QUESTION]));

    expect(outcome).toMatchObject({ kind: 'reply' });
    expect(fake.requests).toHaveLength(2);
  });

  it('falls back with ai_error once the retries are spent', async () => {
    for (let i = 0; i < 3; i++) fake.enqueue({ ...apiError(500, 'Internal server error'), retryAfterMs: 5 });
    const outcome = await reply(request([REFUND_QUESTION]), { maxRetries: 2 });

    expect(outcome).toMatchObject({
      kind: 'fallback',
      reason: 'ai_error',
      // The input count was request 1.
      evidence: { rule: 'ai_error', status: 500, type: 'api_error', requestId: 'req_fake_4' },
    });
    expect(fake.requests).toHaveLength(3);
  });

  it('does not retry a 400', async () => {
    fake.enqueue(apiError(400, 'messages: roles must alternate'));
    const outcome = await reply(request([REFUND_QUESTION]));

    expect(outcome).toMatchObject({ kind: 'fallback', reason: 'ai_error', evidence: { status: 400 } });
    expect(JSON.stringify(outcome)).toContain('roles must alternate');
    expect(fake.requests).toHaveLength(1);
  });

  it('falls back with ai_error when the API is slower than the timeout', async () => {
    fake.enqueue({ ...answer({}), delayMs: 3_000 });
    const started = Date.now();
    const outcome = await reply(request([REFUND_QUESTION]), { timeoutMs: 200, maxRetries: 0 });

    expect(outcome).toMatchObject({
      kind: 'fallback',
      reason: 'ai_error',
      evidence: { error: 'Request timed out.' },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('falls back with ai_error on a response that is not valid JSON', async () => {
    fake.enqueue({ malformed: true });
    expect(await reply(request([REFUND_QUESTION]))).toMatchObject({ kind: 'fallback', reason: 'ai_error' });
  });

  it('falls back with ai_error when the model answers in plain text without calling a tool', async () => {
    fake.enqueue({ content: [{ type: 'text', text: 'Refunds take 5 days.' }] });
    const outcome = await reply(request([REFUND_QUESTION]));

    expect(outcome).toEqual({
      kind: 'fallback',
      reason: 'ai_error',
      evidence: {
        rule: 'ai_error',
        error: 'the model did not call a tool (stop_reason: end_turn)',
        usage: ONE_CALL,
      },
    });
  });

  it.each([
    ['a confidence that is not a number', { confidence: 'high' }],
    ['a confidence above 1', { confidence: 7 }],
    ['no citations field', { citations: undefined }],
    ['an empty reply without escalating', { reply: '  ' }],
    ['an unknown escalate reason', { escalate: true, escalate_reason: 'bored' }],
  ])('falls back with ai_error on answer_customer input with %s', async (_, input) => {
    fake.enqueue(answer(input as Parameters<typeof answer>[0]));
    const outcome = await reply(request([REFUND_QUESTION]));
    expect(outcome).toMatchObject({
      kind: 'fallback',
      reason: 'ai_error',
      evidence: { error: expect.stringContaining('answer_customer') },
    });
  });

  it('falls back with ai_error when the model calls a tool it was not given', async () => {
    fake.enqueue({ content: [toolUse('delete_account', { id: 1 })] });
    expect(await reply(request([REFUND_QUESTION]))).toMatchObject({
      kind: 'fallback',
      reason: 'ai_error',
      evidence: { error: 'the model called an unexpected tool: delete_account' },
    });
  });

  it('gives up quickly when the turn is aborted mid-request', async () => {
    fake.enqueue({ ...answer({}), delayMs: 10_000 });
    const controller = new AbortController();
    const pending = reply(request([REFUND_QUESTION]), {}, controller.signal);
    await fake.waitForRequests(1);
    const abortedAt = Date.now();
    controller.abort();
    const outcome = await pending;

    expect(outcome).toMatchObject({ kind: 'fallback', reason: 'ai_error' });
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(fake.requests).toHaveLength(1);
  });

  it('gives up while a knowledge search hangs, and sends nothing once aborted', async () => {
    const controller = new AbortController();
    const agent = createAnthropicAgent({
      client: new Anthropic({ apiKey: API_KEY, baseURL: fake.url }),
      knowledge: { search: () => new Promise<never>(() => {}) },
      settingsFor: () => settings,
    });
    const pending = agent.generateReply(request([REFUND_QUESTION]), controller.signal);
    setTimeout(() => controller.abort(), 20);

    expect(await pending).toEqual({
      kind: 'fallback',
      reason: 'ai_error',
      evidence: { rule: 'ai_error', error: 'the reply was aborted' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('never puts the API key in the evidence, even when the API echoes it', async () => {
    const echo = (request: { headers: Record<string, string> }): FakeResponse =>
      apiError(400, `invalid credentials: ${request.headers.authorization}`);
    for (const apiKey of [API_KEY, 'plain-secret-without-prefix']) {
      fake.enqueue(echo);
      const outcome = await reply(request([REFUND_QUESTION]), {
        client: new Anthropic({ apiKey, baseURL: fake.url }),
      });

      expect(outcome).toMatchObject({ kind: 'fallback', reason: 'ai_error' });
      const evidence = JSON.stringify(outcome);
      expect(evidence).not.toContain(apiKey);
      expect(evidence).toContain('[redacted]');
    }
  });

  describe('token usage and the per-reply budget', () => {
    /** The counters of botrelic_ai_tokens_total for the test's model, by kind. */
    async function tokenCounts(registry: Registry): Promise<Record<string, number>> {
      const metric = await registry.getSingleMetric('botrelic_ai_tokens_total')!.get();
      return Object.fromEntries(
        metric.values
          .filter((value) => value.labels.model === 'claude-haiku-4-5')
          .map((value) => [String(value.labels.kind), value.value]),
      );
    }

    it('sums usage over the tool loop, cache reads and writes included, into the evidence and the metrics', async () => {
      const registry = new Registry();
      fake.enqueue(
        {
          ...search('refund days', 't1'),
          usage: { input_tokens: 300, cache_creation_input_tokens: 1_500, output_tokens: 40 },
        },
        { ...answer({ confidence: 0.3 }), usage: { input_tokens: 500, cache_read_input_tokens: 1_500 } },
      );
      const outcome = await reply(request([REFUND_QUESTION]), { metrics: createAiMetrics(registry) });

      expect(outcome).toMatchObject({
        kind: 'fallback',
        reason: 'low_confidence',
        evidence: { usage: { calls: 2, input: 800, cacheCreation: 1_500, cacheRead: 1_500, output: 60 } },
      });
      expect(await tokenCounts(registry)).toEqual({
        input: 800,
        cache_creation: 1_500,
        cache_read: 1_500,
        output: 60,
      });
      const calls = await registry.getSingleMetric('botrelic_ai_model_calls_total')!.get();
      expect(calls.values.map((value) => [value.labels.stop_reason, value.value])).toEqual([['tool_use', 2]]);
    });

    it('counts a reply too, in the metrics', async () => {
      const registry = new Registry();
      fake.enqueue({ ...answer({}), usage: { input_tokens: 250, cache_read_input_tokens: 1_100 } });
      expect(await reply(request([REFUND_QUESTION]), { metrics: createAiMetrics(registry) })).toMatchObject({
        kind: 'reply',
      });
      expect(await tokenCounts(registry)).toEqual({
        input: 250,
        cache_creation: 0,
        cache_read: 1_100,
        output: 20,
      });
    });

    /** Restarts the fake with `inputTokens` as its token count (and default input usage) of a request. */
    async function countingFake(inputTokens: false | ((body: MessageCountTokensParams) => number)) {
      await fake.close();
      fake = await startFakeMessagesApi({ inputTokens });
    }
    /** 1,000 tokens, and 900 more per search result sent back. */
    const growing = (body: MessageCountTokensParams) =>
      1_000 +
      900 *
        body.messages.filter((message) => JSON.stringify(message.content).includes('"tool_result"')).length;

    it("counts each call's input before making it, and lets it search only while the answer after still fits", async () => {
      settings = { ...settings, maxTokensPerReply: 6_000 };
      await countingFake(growing);
      fake.enqueue({ ...search('refund days', 't1'), usage: { output_tokens: 50 } }, answer({}));
      const outcome = await reply(request([REFUND_QUESTION]));

      expect(outcome).toMatchObject({ kind: 'reply' });
      expect(fake.counts).toHaveLength(2);
      // 1,000 × 1.02 counted: searching (2 × 1,020 + 2,500 for the search + 512 for the answer) fits in 6,000.
      expect(fake.requests[0]!.body.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
      // 1,050 spent, 1,900 × 1.02 counted: another search would not leave room for the answer, so it answers.
      expect(fake.requests[1]!.body.tool_choice).toEqual({ type: 'tool', name: 'answer_customer' });
      expect(fake.requests[1]!.body.max_tokens).toBe(1024);
    });

    it('gives a call only the output the budget has left once its input is counted', async () => {
      settings = { ...settings, maxTokensPerReply: 2_000 };
      await countingFake(() => 1_000);
      fake.enqueue({ ...answer({}), usage: { output_tokens: 950 } });
      const outcome = await reply(request([REFUND_QUESTION]));

      expect(outcome).toMatchObject({ kind: 'reply' });
      expect(fake.requests[0]!.body.max_tokens).toBe(2_000 - 1_020);
      expect(fake.requests[0]!.body.tool_choice).toEqual({ type: 'tool', name: 'answer_customer' });
    });

    it('falls back with ai_error (rule token_budget) without calling the model when the answer cannot fit', async () => {
      settings = { ...settings, maxTokensPerReply: 2_000 };
      await countingFake(() => 1_700);
      const outcome = await reply(request([REFUND_QUESTION]));

      expect(outcome).toEqual({
        kind: 'fallback',
        reason: 'ai_error',
        evidence: {
          rule: 'token_budget',
          error:
            'no room left for an answer: it needs 2246 tokens with its input, over maxTokensPerReply 2000',
        },
      });
      expect(fake.counts).toHaveLength(1);
      expect(fake.requests).toHaveLength(0);
    });

    it('falls back without the answer call when a search left too little for it', async () => {
      settings = { ...settings, maxTokensPerReply: 6_000 };
      await countingFake((body) => (growing(body) > 1_000 ? 3_600 : 1_000));
      fake.enqueue({ ...search('refund days', 't1'), usage: { output_tokens: 1_000 } }, answer({}));
      const outcome = await reply(request([REFUND_QUESTION]));

      expect(outcome).toMatchObject({
        kind: 'fallback',
        reason: 'ai_error',
        evidence: {
          rule: 'token_budget',
          usage: { calls: 1, input: 1_000, cacheCreation: 0, cacheRead: 0, output: 1_000 },
        },
      });
      expect(fake.counts).toHaveLength(2);
      expect(fake.requests).toHaveLength(1);
    });

    it('never lets a turn use more than its budget, however much the model writes and searches', async () => {
      // The worst model: it searches whenever it may, and every call writes all the output it is allowed.
      await countingFake(growing);
      const searched: number[] = [];
      for (const budget of [2_000, 2_600, 3_500, 5_000, 7_500, 10_000, 15_000, 20_000, 40_000]) {
        settings = { ...settings, maxTokensPerReply: budget };
        fake.requests.length = 0;
        fake.enqueue(
          ...Array.from({ length: 4 }, (_, i) => (sent: RecordedRequest): FakeResponse => {
            const usage = { output_tokens: sent.body.max_tokens };
            return sent.body.tool_choice?.type === 'any'
              ? { ...search(`refund ${i}`, `t${i}`), usage }
              : { ...answer({}), usage };
          }),
        );
        const outcome = await reply(request([REFUND_QUESTION]));
        if (outcome.kind !== 'reply') throw new Error(`budget ${budget}: ${JSON.stringify(outcome)}`);

        // The turn's usage as the answer's evidence records it, every call's input and output summed.
        expect(outcome.evidence?.usage?.calls).toBe(fake.requests.length);
        expect(tokensOf(outcome.evidence!.usage!), `budget ${budget}`).toBeLessThanOrEqual(budget);
        searched.push(fake.requests.length - 1);
      }
      // Bigger budgets leave room for more searches: the test does walk the search loop.
      expect(searched).toEqual([0, 0, 0, 0, 1, 2, 3, 3, 3]);
    });

    it('without a token counting endpoint, bounds the input by its size: every token is at least one byte', async () => {
      await countingFake(false);
      settings = { ...settings, maxTokensPerReply: 3_000 };
      expect(await reply(request([REFUND_QUESTION]))).toMatchObject({
        kind: 'fallback',
        evidence: { rule: 'token_budget' },
      });
      expect(fake.requests).toHaveLength(0);

      settings = { ...settings, maxTokensPerReply: 20_000 };
      fake.enqueue(answer({}));
      expect(await reply(request([REFUND_QUESTION]))).toMatchObject({ kind: 'reply' });
      expect(fake.requests).toHaveLength(1);
    });

    it('never sends an answer cut off by max_tokens', async () => {
      fake.enqueue({ ...answer({}), stopReason: 'max_tokens', usage: { output_tokens: 1024 } });
      const outcome = await reply(request([REFUND_QUESTION]));

      expect(outcome).toEqual({
        kind: 'fallback',
        reason: 'ai_error',
        evidence: {
          rule: 'max_tokens',
          error: 'the model reached max_tokens (1024) before finishing its answer_customer call',
          usage: { ...ONE_CALL, output: 1024 },
        },
      });
    });

    it('says token_budget when the budget, not the per-call cap, cut the answer off', async () => {
      settings = { ...settings, maxTokensPerReply: 2_000 };
      await countingFake(() => 1_000);
      fake.enqueue({ ...answer({}), stopReason: 'max_tokens', usage: { output_tokens: 980 } });
      const outcome = await reply(request([REFUND_QUESTION]));

      expect(fake.requests[0]!.body.max_tokens).toBe(980);
      expect(outcome).toMatchObject({
        kind: 'fallback',
        reason: 'ai_error',
        evidence: { rule: 'token_budget', usage: { calls: 1, input: 1_000, output: 980 } },
      });
    });
  });

  it('falls back with ai_error when the workspace settings cannot be read', async () => {
    const agent = createAnthropicAgent({
      client: new Anthropic({ apiKey: API_KEY, baseURL: fake.url }),
      knowledge,
      settingsFor: (workspaceId) => {
        throw new Error(`unknown workspace ${workspaceId}`);
      },
    });
    expect(await agent.generateReply(request(['hi']), new AbortController().signal)).toEqual({
      kind: 'fallback',
      reason: 'ai_error',
      evidence: { rule: 'ai_error', error: 'unknown workspace acme' },
    });
  });
});
