import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentSettings, agentSettingsFor } from '../../src/ai/agent-settings.ts';
import { createOfflineAgent } from '../../src/ai/offline-agent.ts';
import type { ReplyAgent, ReplyOutcome } from '../../src/ai/reply-agent.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createKnowledgeBase } from '../../src/knowledge/knowledge-base.ts';
import type { KnowledgeHit, KnowledgeSearch } from '../../src/knowledge/knowledge-search.ts';
import type { CustomerMessage, HistoryEntry, ReplyRequest } from '../../src/machines/session.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';
import { createPgliteTestDatabase, type TestDatabase } from '../support/database.ts';

const ROOT = join(import.meta.dirname, '../..');

let wamids = 0;
const text = (body: string): CustomerMessage => ({
  wamid: `wamid.${++wamids}`,
  type: 'text',
  text: body,
  sentAt: 0,
});
const customerEntry = (message: CustomerMessage): HistoryEntry => ({
  kind: 'customer',
  at: 0,
  wamid: message.wamid,
  type: message.type,
  text: message.text,
});

/** The request the session machine makes: the burst is also the history's tail. */
function request(
  unanswered: CustomerMessage[],
  options: { history?: HistoryEntry[]; lowConfidenceStreak?: number } = {},
): ReplyRequest {
  return {
    sessionId: 'session-1',
    workspaceId: 'demo',
    history: [...(options.history ?? []), ...unanswered.map(customerEntry)],
    unanswered,
    lowConfidenceStreak: options.lowConfidenceStreak ?? 0,
  };
}

/** Counts the searches, so a test can tell small talk and fallbacks never reached the knowledge base. */
function countingSearch(inner: KnowledgeSearch) {
  const queries: string[] = [];
  const search: KnowledgeSearch = {
    search(workspaceId, query, options) {
      queries.push(query);
      return inner.search(workspaceId, query, options);
    },
  };
  return { search, queries };
}

const reply = (outcome: ReplyOutcome) => {
  if (outcome.kind !== 'reply') throw new Error(`expected a reply, got ${JSON.stringify(outcome)}`);
  return outcome;
};

describe('offline agent on the demo knowledge base', () => {
  let database: TestDatabase;
  let settings: AgentSettings;
  let agent: ReplyAgent;
  let queries: string[];
  const ask = (...messages: string[]) =>
    agent.generateReply(request(messages.map(text)), new AbortController().signal);

  beforeAll(async () => {
    const config = await loadConfig(join(ROOT, 'botrelic.yaml'), {});
    const demo = config.workspaces.find((workspace) => workspace.id === 'demo')!;
    settings = agentSettingsFor(demo);
    database = await createPgliteTestDatabase();
    await syncWorkspaces(database.db, config);
    const knowledge = createKnowledgeBase(database.db);
    await knowledge.ingestFolders('demo', demo.knowledge, demo.agent.language);
    const counting = countingSearch(knowledge);
    queries = counting.queries;
    agent = createOfflineAgent({ knowledge: counting.search, settingsFor: () => settings });
  });

  afterAll(async () => {
    await database?.close();
  });

  it('answers the opening hours with the hours, in a short WhatsApp message', async () => {
    const answer = reply(await ask('What are your opening hours?'));
    expect(answer.text).toContain('Monday to Friday: 7:00 – 19:00');
    expect(answer.text).toContain('Central Station kiosk');
    expect(answer.text.length).toBeLessThanOrEqual(500);
    expect(answer.confidence).toBeGreaterThan(0.8);
    expect(answer.lowConfidence).toBe(false);
    expect(answer.chunks.length).toBeGreaterThan(0);
    expect(answer.chunks.every((id) => id.startsWith('opening-hours-and-locations.md#'))).toBe(true);
  });

  it.each([
    ['How much is a cappuccino?', '$4.20', 'menu-and-products.md'],
    ['Is there parking near the café?', 'Harbour Square car park', 'opening-hours-and-locations.md'],
    ['When will I get my refund?', '5 business days', 'returns-and-refunds.md'],
    ['Do you ship internationally?', 'United States', 'shipping-and-delivery.md'],
    ['Do my points expire?', '12 months', 'loyalty-programme.md'],
    ['Are you hiring baristas?', 'jobs@botrelic-demo.example', 'contact.md'],
    ['Do you accept PayPal?', 'PayPal', 'payment-methods.md'],
  ])('answers %j with a sentence or two quoting %j', async (question, fact, document) => {
    const answer = reply(await ask(question));
    expect(answer.text).toContain(fact);
    expect(answer.chunks[0]).toMatch(new RegExp(`^${document.replaceAll('.', '\\.')}#`));
    // An answer, not the document: short, and without Markdown's table pipes or double asterisks.
    expect(answer.text.length).toBeLessThanOrEqual(320);
    expect(answer.text).not.toMatch(/\*\*|\||^#/m);
  });

  it('answers a burst of messages once, with one search', async () => {
    const before = queries.length;
    const answer = reply(await ask('hello', 'do you have wifi', "what's the password?"));
    expect(queries.length - before).toBe(1);
    expect(answer.text).toContain('password');
  });

  it.each([
    ['hi', 'Hi! 👋 How can I help you today?'],
    ['Good morning', 'Hi! 👋 How can I help you today?'],
    ['Thank you so much!', "You're welcome! Is there anything else I can help you with?"],
    ['ok thanks 👍', "You're welcome! Is there anything else I can help you with?"],
    ['👍', "You're welcome! Is there anything else I can help you with?"],
    ['❤️🙏', "You're welcome! Is there anything else I can help you with?"],
    ['👍🏽', "You're welcome! Is there anything else I can help you with?"],
    ['👋', 'Hi! 👋 How can I help you today?'],
    ['☕', 'Is there anything I can help you with?'],
    ['🤔🤔', 'Is there anything I can help you with?'],
    ['bye', 'Thanks for writing! Have a nice day. 👋'],
    ['Hola, buenas tardes', '¡Hola! 👋 ¿En qué puedo ayudarte?'],
    ['muchas gracias', '¡De nada! ¿Puedo ayudarte con algo más?'],
    ['obrigada', 'De nada! Posso ajudar com mais alguma coisa?'],
  ])('replies to the small talk %j without searching', async (message, expected) => {
    const before = queries.length;
    const answer = reply(await ask(message));
    expect(answer).toEqual({
      kind: 'reply',
      text: expected,
      confidence: 1,
      lowConfidence: false,
      chunks: [],
      evidence: { rule: 'small_talk', weak: false, threshold: 0.55, hits: [] },
    });
    expect(queries.length).toBe(before);
  });

  it('does not take a repeated thank-you for a loop', async () => {
    const thanks = text('Thank you very much');
    const history: HistoryEntry[] = [
      customerEntry(thanks),
      { kind: 'ai', at: 0, text: 'You are welcome!', confidence: 1, chunks: [] },
    ];
    const answer = reply(
      await agent.generateReply(
        request([text('Thank you very much')], { history }),
        new AbortController().signal,
      ),
    );
    expect(answer.text).toContain('welcome');
  });

  it('hands off on an escalation keyword without searching', async () => {
    const before = queries.length;
    const outcome = await ask('This is useless, I want to talk to a real person');
    expect(outcome).toMatchObject({ kind: 'fallback', reason: 'keyword', evidence: { rule: 'keyword' } });
    expect(queries.length).toBe(before);
  });

  it('hands off on a message it cannot read, caption or not', async () => {
    const photo: CustomerMessage = {
      wamid: 'wamid.photo',
      type: 'image',
      text: 'is this the right mug?',
      sentAt: 0,
    };
    const outcome = await agent.generateReply(request([photo]), new AbortController().signal);
    expect(outcome).toMatchObject({
      kind: 'fallback',
      reason: 'unsupported',
      evidence: { rule: 'unsupported_type', type: 'image' },
    });
  });

  it('hands off when the "talk to a person" button is pressed', async () => {
    const button: CustomerMessage = {
      wamid: 'wamid.button',
      type: 'button',
      text: 'Talk to a person',
      sentAt: 0,
    };
    expect(await agent.generateReply(request([button]), new AbortController().signal)).toMatchObject({
      kind: 'fallback',
      reason: 'customer_request',
    });
  });

  it.each(['Do you sell bicycles?', 'What is the weather like tomorrow?', '?', '¿?'])(
    'hands %j to a person: the knowledge base does not cover it',
    async (question) => {
      expect(await ask(question)).toMatchObject({
        kind: 'fallback',
        reason: 'unsupported',
        evidence: { rule: 'no_relevant_knowledge' },
      });
    },
  );

  it.each([
    ['What are the opening hours of the cinema?', ['cinema']],
    ['How much does a haircut cost?', ['haircut']],
    ['Where is the nearest hospital?', ['hospital']],
  ])(
    'hands %j to a person as unsupported: only the facet asked about is found',
    async (question, missing) => {
      expect(await ask(question)).toMatchObject({
        kind: 'fallback',
        reason: 'unsupported',
        evidence: { rule: 'uncovered_subject', missing },
      });
    },
  );

  it('hands off as unsupported a question the best passage holds under a quarter of', async () => {
    const outcome = await ask('Can you recommend a good restaurant for dinner?');
    expect(outcome).toMatchObject({
      kind: 'fallback',
      reason: 'unsupported',
      evidence: { rule: 'no_relevant_knowledge', minRelevance: 0.25 },
    });
  });

  it('hands off a question the knowledge base only touches', async () => {
    const outcome = await ask('Do you repair espresso machines?');
    expect(outcome).toMatchObject({
      kind: 'fallback',
      reason: 'low_confidence',
      evidence: { rule: 'below_threshold' },
    });
  });

  it('hands off a question the customer repeats after an answer', async () => {
    const question = text('Where can I park my car near the café?');
    const first = reply(await agent.generateReply(request([question]), new AbortController().signal));
    const history: HistoryEntry[] = [
      customerEntry(question),
      { kind: 'ai', at: 0, text: first.text, confidence: first.confidence, chunks: first.chunks },
    ];
    const again = await agent.generateReply(
      request([text('Where can I park my car near the café?')], { history }),
      new AbortController().signal,
    );
    expect(again).toMatchObject({
      kind: 'fallback',
      reason: 'loop',
      evidence: { rule: 'repeated_question' },
    });
  });

  it.each([
    ['😡', '😡'],
    ['👎', '👎'],
    ['ok 😤', '😤'],
    ['gracias 😢😢', '😢'],
  ])('hands %j to a person: the customer is upset', async (message, emoji) => {
    const before = queries.length;
    expect(await ask(message)).toMatchObject({
      kind: 'fallback',
      reason: 'customer_request',
      evidence: { rule: 'upset_emoji', emoji },
    });
    expect(queries.length).toBe(before);
  });

  it('takes a reaction for what its emoji says, and a reaction taken back for no question at all', async () => {
    const reaction = (emoji: string | null): CustomerMessage => ({
      wamid: `wamid.reaction-${++wamids}`,
      type: 'reaction',
      text: emoji,
      sentAt: 0,
    });
    const before = queries.length;
    const replyTo = async (message: CustomerMessage) =>
      agent.generateReply(request([message]), new AbortController().signal);

    expect(reply(await replyTo(reaction('👍'))).text).toBe(
      "You're welcome! Is there anything else I can help you with?",
    );
    expect(await replyTo(reaction('👎'))).toMatchObject({ kind: 'fallback', reason: 'customer_request' });
    expect(reply(await replyTo(reaction(null))).text).toBe('Is there anything I can help you with?');
    expect(queries.length).toBe(before);
  });

  it('greets a customer who opens the chat', async () => {
    const welcome: CustomerMessage = {
      wamid: 'wamid.welcome',
      type: 'request_welcome',
      text: null,
      sentAt: 0,
    };
    expect(reply(await agent.generateReply(request([welcome]), new AbortController().signal)).text).toBe(
      'Hi! 👋 How can I help you today?',
    );
  });

  it('hands off any other message with nothing to read', async () => {
    const empty: CustomerMessage = { wamid: 'wamid.empty', type: 'unknown', text: null, sentAt: 0 };
    expect(await agent.generateReply(request([empty]), new AbortController().signal)).toMatchObject({
      kind: 'fallback',
      reason: 'unsupported',
    });
  });

  it('reads "something" as no subject: "How do I return something?" gets the return steps', async () => {
    const answer = reply(await ask('How do I return something?'));
    expect(answer.chunks[0]).toBe('returns-and-refunds.md#4');
    expect(answer.text).toContain('return instructions');
    expect(answer.text).not.toContain('warranty');
  });

  it('lists every payment method, in the café and online, when asked for the methods', async () => {
    const answer = reply(await ask('What payment methods do you accept?'));
    for (const method of ['Cash', 'Visa', 'Apple Pay', 'PayPal', 'Gift card codes']) {
      expect(answer.text).toContain(method);
    }
    expect(answer.text.length).toBeLessThanOrEqual(500);
  });
});

describe('offline agent confidence', () => {
  const settings = (threshold = 0.55): AgentSettings => ({
    instructions: '',
    model: 'none',
    confidenceThreshold: threshold,
    language: 'english',
    maxTokensPerReply: 20_000,
    fallback: {
      keywords: ['human'],
      unsupportedTypes: ['image'],
      humanRequestIds: ['talk_to_human'],
      maxLowConfidenceTurns: 2,
      loopWindow: 5,
      loopMinWords: 3,
      minRelevance: 0,
    },
  });
  const hit = (score: number): KnowledgeHit => ({
    id: 'returns.md#2',
    documentId: 'returns.md',
    title: 'Returns',
    heading: 'Refund times',
    text: 'We refund within 5 business days. Your bank may take longer.',
    score,
  });
  const agentFinding = (score: number) =>
    createOfflineAgent({ knowledge: { search: async () => [hit(score)] }, settingsFor: () => settings() });
  const askRefund = (agent: ReplyAgent, lowConfidenceStreak = 0) =>
    agent.generateReply(
      request([text('when do I get my refund')], { lowConfidenceStreak }),
      new AbortController().signal,
    );

  it('is the retrieval score: a strong match is a confident answer', async () => {
    const answer = reply(await askRefund(agentFinding(0.9)));
    expect(answer).toMatchObject({
      confidence: 0.9,
      lowConfidence: false,
      chunks: ['returns.md#2'],
      evidence: {
        rule: 'answered',
        weak: false,
        threshold: 0.55,
        hits: [{ id: 'returns.md#2', score: 0.9 }],
      },
    });
    expect(answer.text).toBe('We refund within 5 business days. Your bank may take longer.');
  });

  it('answers a weak match but marks it weak, and hands off the weak answer that ends a streak', async () => {
    const agent = agentFinding(0.6);
    expect(reply(await askRefund(agent))).toMatchObject({
      confidence: 0.6,
      lowConfidence: true,
      evidence: { rule: 'answered', weak: true, threshold: 0.55 },
    });
    expect(await askRefund(agent, 1)).toMatchObject({
      kind: 'fallback',
      reason: 'loop',
      evidence: { rule: 'low_confidence_streak', weakAnswersInARow: 2 },
    });
  });

  it('hands off a match under the threshold', async () => {
    expect(await askRefund(agentFinding(0.4))).toMatchObject({
      kind: 'fallback',
      reason: 'low_confidence',
      evidence: { rule: 'below_threshold', confidence: 0.4, threshold: 0.55, chunks: ['returns.md#2'] },
    });
  });

  it('turns a failing knowledge base into an ai_error fallback', async () => {
    const agent = createOfflineAgent({
      knowledge: {
        search: async () => {
          throw new Error('connection terminated');
        },
      },
      settingsFor: () => settings(),
    });
    expect(await askRefund(agent)).toEqual({
      kind: 'fallback',
      reason: 'ai_error',
      evidence: { rule: 'ai_error', error: 'connection terminated' },
    });
  });

  it('turns an unknown workspace into an ai_error fallback', async () => {
    const agent = createOfflineAgent({
      knowledge: { search: async () => [] },
      settingsFor: () => {
        throw new Error('workspace "demo" is not configured');
      },
    });
    expect(await askRefund(agent)).toMatchObject({ kind: 'fallback', reason: 'ai_error' });
  });

  it('gives up on an aborted turn without throwing', async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await agentFinding(0.9).generateReply(
      request([text('refund please')]),
      controller.signal,
    );
    expect(outcome).toMatchObject({ kind: 'fallback', reason: 'ai_error' });
  });
});
