import { describe, expect, it } from 'vitest';
import type { KnowledgeChunk } from '../../src/knowledge/knowledge-search.ts';
import type { HistoryEntry } from '../../src/machines/session.ts';
import type { Reply } from '../../src/scenarios/scenario-conversation.ts';
import { checkExpectation, type ObservedConversation } from '../../src/scenarios/scenario-expectations.ts';

const CHUNK: KnowledgeChunk = {
  id: 'returns-and-refunds.md#3',
  documentId: 'returns-and-refunds.md',
  title: 'Returns and refunds',
  heading: 'Refunds › How long a refund takes',
  text: '…',
};

function conversation(replies: Reply[], overrides: Partial<ObservedConversation> = {}): ObservedConversation {
  return {
    replies,
    state: 'active',
    fallbacks: [],
    history: async () => [],
    chunks: async (ids) => (ids.includes(CHUNK.id) ? [CHUNK] : []),
    ...overrides,
  };
}

const aiAnswer: Reply = {
  author: 'ai',
  text: 'Refunds take 5 days.',
  decision: { confidence: 0.9, chunks: [CHUNK.id] },
};

describe('scenario expectations', () => {
  it('checks replies one at a time, in the order they were sent', async () => {
    const observed = conversation([
      { author: 'system', text: 'Let me connect you.' },
      { author: 'agent', text: 'Hi, Alex here.' },
    ]);
    expect(await checkExpectation({ reply: { regex: /^Let me/u } }, observed)).toEqual({ ok: true });
    expect(await checkExpectation({ reply: { text: 'Hi, Alex here' } }, observed)).toEqual({
      ok: false,
      expected: 'a reply "Hi, Alex here"',
      got: 'agent: "Hi, Alex here."',
    });
    expect(await checkExpectation({ reply: { text: 'anything' } }, observed)).toEqual({
      ok: false,
      expected: 'a reply "anything"',
      got: 'no reply',
    });
  });

  it('takes a mention to be the document, with or without extension, the chunk, the title or a heading', async () => {
    for (const mention of [
      'returns-and-refunds.md',
      'returns-and-refunds',
      'returns-and-refunds.md#3',
      'Returns and refunds',
      'refunds',
      'How long a refund takes',
      'Refunds › How long a refund takes',
    ]) {
      expect(
        await checkExpectation({ reply: { mentions: mention } }, conversation([aiAnswer])),
        mention,
      ).toEqual({
        ok: true,
      });
    }
    const elsewhere = await checkExpectation(
      { reply: { mentions: 'shipping-and-delivery.md' } },
      conversation([aiAnswer]),
    );
    expect(elsewhere).toEqual({
      ok: false,
      expected: 'an AI answer resting on "shipping-and-delivery.md"',
      got: 'ai: "Refunds take 5 days." (chunks: returns-and-refunds.md#3)',
    });
    // A person's message cites no knowledge, however well it matches.
    const human = await checkExpectation(
      { reply: { mentions: 'refunds' } },
      conversation([{ author: 'agent', text: 'Refunds take 5 days.' }]),
    );
    expect(human.ok).toBe(false);
  });

  it('fails noReply with every reply still unchecked', async () => {
    const observed = conversation([aiAnswer, { author: 'system', text: 'Bye' }]);
    expect(await checkExpectation({ noReply: true }, observed)).toEqual({
      ok: false,
      expected: 'no reply',
      got: 'ai: "Refunds take 5 days." (chunks: returns-and-refunds.md#3)\nsystem: "Bye"',
    });
    expect(await checkExpectation({ noReply: true }, conversation([]))).toEqual({ ok: true });
  });

  it('compares the state, and the reason of the next fallback not yet checked', async () => {
    const keyword = { reason: 'keyword', evidence: { rule: 'keyword', keyword: 'humano' } } as const;
    const waiting = conversation([], { state: 'fallback', fallbacks: [keyword] });
    expect(await checkExpectation({ state: 'fallback', fallback: 'keyword' }, waiting)).toEqual({ ok: true });
    expect(await checkExpectation({ state: 'human' }, waiting)).toMatchObject({
      expected: 'state human',
      got: 'state fallback',
    });
    expect(
      await checkExpectation({ fallback: 'unsupported' }, conversation([], { fallbacks: [keyword] })),
    ).toMatchObject({
      expected: 'a fallback with reason unsupported',
      got: 'a fallback with reason keyword ({"rule":"keyword","keyword":"humano"})',
    });
    expect(await checkExpectation({ fallback: 'keyword' }, conversation([]))).toMatchObject({
      got: 'no fallback since the last one checked',
    });
    expect(await checkExpectation({ state: 'active' }, conversation([], { state: null }))).toMatchObject({
      got: 'no session yet',
    });
  });

  it('takes each fallback once: one already checked does not pass a later expectation', async () => {
    const observed = conversation([], {
      fallbacks: [
        { reason: 'keyword', evidence: {} },
        { reason: 'unsupported', evidence: { type: 'image' } },
      ],
    });
    expect(await checkExpectation({ fallback: 'keyword' }, observed)).toEqual({ ok: true });
    // The keyword fallback was checked: it is stale now, and the next one is what this step sees.
    expect(await checkExpectation({ fallback: 'keyword' }, observed)).toMatchObject({
      ok: false,
      got: 'a fallback with reason unsupported ({"type":"image"})',
    });
    expect(await checkExpectation({ fallback: 'unsupported' }, observed)).toMatchObject({
      ok: false,
      got: 'no fallback since the last one checked',
    });
  });

  it('finds the expected messages in the order the session saw them, others in between', async () => {
    const entry = (text: string): HistoryEntry => ({
      kind: 'customer',
      at: 0,
      wamid: text,
      type: 'text',
      text,
    });
    const observed = conversation([], { history: async () => [entry('a'), entry('x'), entry('b')] });
    expect(await checkExpectation({ order: ['a', 'b'] }, observed)).toEqual({ ok: true });
    expect(await checkExpectation({ order: ['b', 'a'] }, observed)).toEqual({
      ok: false,
      expected: 'the session to have seen, in this order: "b", "a"',
      got: '"a", "x", "b"',
    });
  });
});
