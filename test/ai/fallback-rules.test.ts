import { describe, expect, it } from 'vitest';
import {
  type AnswerAssessment,
  detectFallbackAfterAnswer,
  detectFallbackBeforeAnswer,
  type FallbackSettings,
  fallbackSettingsFor,
  isWeakAnswer,
  normalizeText,
} from '../../src/ai/fallback-rules.ts';
import { DEFAULT_UNSUPPORTED_TYPES } from '../../src/config/workspace-config.ts';
import type { KnowledgeHit } from '../../src/knowledge/knowledge-search.ts';
import type { CustomerMessage, HistoryEntry } from '../../src/machines/session.ts';
import { testConfig } from '../support/test-config.ts';

let wamidCounter = 0;
const message = (text: string | null, type = 'text', wamid = `wamid.${++wamidCounter}`): CustomerMessage => ({
  wamid,
  type,
  text,
  sentAt: 0,
});
const customer = (wamid: string, text: string): HistoryEntry => ({
  kind: 'customer',
  at: 0,
  wamid,
  type: 'text',
  text,
});
const ai = (text = 'An answer.'): HistoryEntry => ({ kind: 'ai', at: 0, text, confidence: 0.9, chunks: [] });
const handback: HistoryEntry = { kind: 'handback', at: 0, agentId: 'alice' };

const settings = (overrides: Partial<FallbackSettings> = {}): FallbackSettings => ({
  ...fallbackSettingsFor(testConfig().workspaces[0]!),
  keywords: ['human', 'agent', 'person'],
  ...overrides,
});

/** The burst alone, as the session holds it: the unanswered messages are also the history's tail. */
const beforeAnswer = (
  unanswered: CustomerMessage[],
  options: { history?: HistoryEntry[]; settings?: FallbackSettings } = {},
) =>
  detectFallbackBeforeAnswer({
    unanswered,
    history: [
      ...(options.history ?? []),
      ...unanswered.map(
        (m): HistoryEntry => ({ kind: 'customer', at: 0, wamid: m.wamid, type: m.type, text: m.text }),
      ),
    ],
    settings: options.settings ?? settings(),
  });

describe('normalizeText', () => {
  it.each([
    ['Quiero HABLAR con un humáno', 'quiero hablar con un humano'],
    ['  Où est ma commande?!  ', 'ou est ma commande'],
    ['Não consigo   pagar...', 'nao consigo pagar'],
    ['ＨＵＭＡＮ', 'human'],
    ['İNSAN', 'insan'],
    ["I'd like a refund", 'i d like a refund'],
    ['¿Dónde está mi pedido #123?', 'donde esta mi pedido 123'],
    ['Tiếng Việt có dấu', 'tieng viet co dau'],
    ['बात करनी है', 'बात करनी है'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });
});

describe('escalation keywords', () => {
  it.each<[string, string[], string | null]>([
    // case, punctuation
    ['I want a human', ['human'], 'human'],
    ['HUMAN please', ['human'], 'human'],
    ['Human!', ['human'], 'human'],
    ['can I talk to an agent?', ['agent'], 'agent'],
    ['person.', ['person'], 'person'],
    // accents on either side
    ['Quiero HABLAR con un humáno', ['hablar con un humano'], 'hablar con un humano'],
    ['quiero hablar con un humano', ['Hablar con un humáno'], 'Hablar con un humáno'],
    ['Tenho uma reclamacao', ['reclamação'], 'reclamação'],
    ['Quero falar com ALGUEM agora', ['falar com alguém'], 'falar com alguém'],
    ['Preciso de um atendente.', ['atendente'], 'atendente'],
    ['Je veux parler à un être humain', ['etre humain'], 'etre humain'],
    ['Ich möchte mit einem Mitarbeiter sprechen', ['mitarbeiter'], 'mitarbeiter'],
    ['İNSAN ile görüşmek istiyorum', ['insan'], 'insan'],
    ['ＨＵＭＡＮ', ['human'], 'human'],
    ['Нужен оператор', ['оператор'], 'оператор'],
    // scripts without spaces match inside the text
    ['我要人工客服', ['人工客服'], '人工客服'],
    ['担当者と話したい', ['担当者'], '担当者'],
    ['オペレーターをお願い', ['オペレーター'], 'オペレーター'],
    // marks that are vowels or voicing are part of the word
    ['मुझे इंसान से बात करनी है', ['इंसान'], 'इंसान'],
    ['मुझे इंसान से बात करनी है', ['बत'], null],
    ['カイド', ['ガイド'], null],
    // the first configured keyword that matches is reported
    ['hablar con un humano', ['humano', 'hablar con un humano'], 'humano'],
    // whole words only
    ['Check my agenda', ['agent'], null],
    ['humanity is great', ['human'], null],
    ['personal data', ['person'], null],
    ['the agents were nice', ['agent'], null],
    ['inhuman prices', ['human'], null],
    ['Соедините с оператором', ['оператор'], null],
    // a phrase matches only as the same words in the same order
    ['hablar con el humano', ['hablar con un humano'], null],
    ['con un humano hablar', ['hablar con un humano'], null],
    ['hablar con un', ['hablar con un humano'], null],
    // an empty or punctuation-only keyword matches nothing
    ['anything at all', ['', '!!'], null],
  ])('%j with %j → %j', (text, keywords, expected) => {
    const decision = beforeAnswer([message(text)], { settings: settings({ keywords }) });
    if (expected === null) expect(decision).toBeNull();
    else
      expect(decision).toMatchObject({ reason: 'keyword', evidence: { rule: 'keyword', keyword: expected } });
  });

  it('looks at every message of a burst and names the one that matched', () => {
    const burst = [
      message('hello'),
      message('my order is late'),
      message('I need a human', 'text', 'wamid.third'),
    ];
    expect(beforeAnswer(burst)).toEqual({
      reason: 'keyword',
      evidence: { rule: 'keyword', keyword: 'human', wamid: 'wamid.third' },
    });
  });

  it('finds a keyword in the caption of a medium the AI cannot read, and says keyword', () => {
    expect(beforeAnswer([message('human please, see photo', 'image')])).toMatchObject({ reason: 'keyword' });
  });
});

describe('message types the AI does not handle', () => {
  it.each(DEFAULT_UNSUPPORTED_TYPES)('%s falls back as unsupported, with or without a caption', (type) => {
    for (const text of [null, 'what is this?']) {
      const burst = [message(text, type, 'wamid.media')];
      expect(beforeAnswer(burst)).toEqual({
        reason: 'unsupported',
        evidence: { rule: 'unsupported_type', type, wamid: 'wamid.media' },
      });
    }
  });

  it.each(['text', 'interactive', 'button'])('%s is answered', (type) => {
    expect(beforeAnswer([message('What are your opening hours?', type)])).toBeNull();
  });

  it('one unreadable message in a burst is enough', () => {
    expect(beforeAnswer([message('look at this'), message(null, 'audio')])).toMatchObject({
      reason: 'unsupported',
    });
  });

  it('takes the configured list', () => {
    const own = settings({ unsupportedTypes: ['reaction'] });
    expect(beforeAnswer([message('👍', 'reaction')], { settings: own })).toMatchObject({
      reason: 'unsupported',
    });
    expect(beforeAnswer([message('a caption', 'image')], { settings: own })).toBeNull();
  });
});

describe('"talk to a person" buttons', () => {
  it.each<[string, string, string | null]>([
    ['interactive', 'Talk to a person', 'Talk to a person'],
    ['interactive', 'TALK TO A PERSON', 'Talk to a person'],
    ['interactive', 'talk_to_human', 'talk_to_human'],
    ['interactive', 'Talk to human', 'talk_to_human'],
    ['interactive', 'Hablar con una persona', 'Hablar con una persona'],
    ['interactive', 'Falar com uma pessoa', 'Falar com uma pessoa'],
    ['button', 'Talk to an agent', 'Talk to an agent'],
    ['interactive', 'Track my order', null],
    ['interactive', 'Talk to a person about billing', null],
  ])('%s %j → %j', (type, title, expected) => {
    const decision = beforeAnswer([message(title, type)], { settings: settings({ keywords: [] }) });
    if (expected === null) expect(decision).toBeNull();
    else {
      expect(decision).toMatchObject({
        reason: 'customer_request',
        evidence: { rule: 'human_request_button', button: expected },
      });
    }
  });

  it('typed out rather than pressed, the same words are a keyword matter', () => {
    expect(beforeAnswer([message('Talk to a person')])).toMatchObject({
      reason: 'keyword',
      evidence: { keyword: 'person' },
    });
    expect(beforeAnswer([message('Talk to a person')], { settings: settings({ keywords: [] }) })).toBeNull();
  });

  it('takes configured ids and titles', () => {
    const own = settings({ humanRequestIds: ['speak_with_sales'] });
    expect(beforeAnswer([message('Speak with sales', 'interactive')], { settings: own })).toMatchObject({
      reason: 'customer_request',
      evidence: { button: 'speak_with_sales' },
    });
    expect(beforeAnswer([message('Talk to a person', 'interactive')], { settings: own })).toMatchObject({
      reason: 'keyword',
    });
  });

  it.each<[string, string, string | null]>([
    ['interactive', 'talk_to_human', 'Need help?'],
    ['interactive', 'TALK_TO_AGENT', 'Ayuda'],
    ['button', 'talk_to_person', 'Something else'],
    ['interactive', 'talk_to_human', null],
  ])('a %s reply with id %j matches whatever its title (%j)', (type, replyId, title) => {
    const pressed = { ...message(title, type), replyId };
    expect(beforeAnswer([pressed], { settings: settings({ keywords: [] }) })).toEqual({
      reason: 'customer_request',
      evidence: {
        rule: 'human_request_button',
        button: replyId.toLowerCase(),
        replyId,
        wamid: pressed.wamid,
      },
    });
  });

  it('an id that means something else leaves the title to decide', () => {
    const own = settings({ keywords: [] });
    const track = { ...message('Track my order', 'interactive'), replyId: 'track_order' };
    expect(beforeAnswer([track], { settings: own })).toBeNull();
    const titled = { ...message('Talk to a person', 'interactive'), replyId: 'menu_7' };
    expect(beforeAnswer([titled], { settings: own })).toMatchObject({
      reason: 'customer_request',
      evidence: { button: 'Talk to a person', replyId: 'menu_7' },
    });
  });

  it('an id in a text message is not a button', () => {
    const typed = { ...message('hello'), replyId: 'talk_to_human' };
    expect(beforeAnswer([typed], { settings: settings({ keywords: [] }) })).toBeNull();
  });

  it('wins over everything else in the burst', () => {
    const burst = [
      message(null, 'image'),
      message('agent', 'text'),
      message('Talk to a person', 'interactive'),
    ];
    expect(beforeAnswer(burst)).toMatchObject({ reason: 'customer_request' });
  });
});

describe('the customer repeating themselves', () => {
  const question = 'Where is my order 123?';

  it.each<[string, HistoryEntry[], string, 'loop' | null]>([
    ['the same question, answered', [customer('w1', question), ai()], 'where is my order 123', 'loop'],
    [
      'answered, with accents and case changed',
      [customer('w1', '¿Dónde está mi pedido?'), ai()],
      'DONDE esta mi pedido',
      'loop',
    ],
    [
      'answered, other messages since',
      [customer('w1', question), ai(), customer('w2', 'ok thanks'), ai()],
      question,
      'loop',
    ],
    ['not answered by the AI yet', [customer('w1', question)], question, null],
    ['a different question', [customer('w1', question), ai()], 'Where is my order 456?', null],
    ['too short to be a loop', [customer('w1', 'thank you'), ai()], 'Thank you!', null],
    ['a one-word repeat', [customer('w1', 'yes'), ai()], 'yes', null],
    [
      'asked before a person handed back',
      [customer('w1', question), ai(), handback, customer('w2', 'hi again'), ai()],
      question,
      null,
    ],
    [
      'further back than the window',
      [
        customer('w1', question),
        ai(),
        customer('w2', 'a'),
        ai(),
        customer('w3', 'b'),
        ai(),
        customer('w4', 'c'),
        ai(),
      ],
      question,
      null,
    ],
  ])('%s → %s', (_, history, text, expected) => {
    const decision = beforeAnswer([message(text, 'text', 'wamid.now')], {
      history,
      settings: settings({ loopWindow: 3 }),
    });
    if (expected === null) expect(decision).toBeNull();
    else {
      expect(decision).toEqual({
        reason: 'loop',
        evidence: {
          rule: 'repeated_question',
          wamid: 'wamid.now',
          repeats: 'w1',
          question: normalizeText(text),
        },
      });
    }
  });

  it('a repeat inside the burst being answered is not a loop', () => {
    expect(beforeAnswer([message(question), message(question)])).toBeNull();
  });

  it('the minimum length is configurable', () => {
    const history = [customer('w1', 'refund?'), ai()];
    expect(beforeAnswer([message('Refund?')], { history })).toBeNull();
    expect(
      beforeAnswer([message('Refund?')], { history, settings: settings({ loopMinWords: 1 }) }),
    ).toMatchObject({
      reason: 'loop',
    });
  });
});

describe('nothing to fall back on', () => {
  it.each([
    'What are your opening hours?',
    'Hola, ¿tienen envío a Lima?',
    'Olá, bom dia!',
    'My agenda is full',
  ])('%j', (text) => {
    expect(beforeAnswer([message(text)])).toBeNull();
  });
});

const hit = (id: string, score: number): KnowledgeHit => ({
  id,
  score,
  documentId: 'doc',
  title: 'Doc',
  heading: null,
  text: `text of ${id}`,
});

describe('after the model answered', () => {
  const base: AnswerAssessment = {
    confidence: 0.9,
    threshold: 0.55,
    lowConfidenceStreak: 0,
    maxLowConfidenceTurns: 2,
    hits: [hit('c1', 0.8), hit('c2', 0.3)],
    citations: ['c1'],
    smallTalk: false,
    minRelevance: 0,
  };

  it.each<[string, Partial<AnswerAssessment>, { reason: string; rule: string } | null]>([
    ['a grounded, confident answer', {}, null],
    ['citing a weaker hit', { citations: ['c2'] }, null],
    ['no knowledge hit at all', { hits: [] }, { reason: 'unsupported', rule: 'no_relevant_knowledge' }],
    [
      'only hits below the relevance floor',
      { minRelevance: 0.9 },
      { reason: 'unsupported', rule: 'no_relevant_knowledge' },
    ],
    [
      'citing only a hit below the floor',
      { minRelevance: 0.5, citations: ['c2'] },
      { reason: 'unsupported', rule: 'uncited_answer' },
    ],
    ['citing nothing', { citations: [] }, { reason: 'unsupported', rule: 'uncited_answer' }],
    ['citing an unknown id', { citations: ['made-up'] }, { reason: 'unsupported', rule: 'uncited_answer' }],
    ['small talk needs no knowledge', { hits: [], citations: [], smallTalk: true }, null],
    [
      'small talk still needs confidence',
      { hits: [], smallTalk: true, confidence: 0.3 },
      { reason: 'low_confidence', rule: 'below_threshold' },
    ],
    [
      'confidence under the threshold',
      { confidence: 0.54 },
      { reason: 'low_confidence', rule: 'below_threshold' },
    ],
    ['confidence zero', { confidence: 0 }, { reason: 'low_confidence', rule: 'below_threshold' }],
    [
      'no hits and low confidence: the knowledge gap is the reason',
      { hits: [], confidence: 0.1 },
      { reason: 'unsupported', rule: 'no_relevant_knowledge' },
    ],
    ['exactly the threshold, first weak answer', { confidence: 0.55 }, null],
    [
      'weak, and the streak reaches the limit',
      { confidence: 0.6, lowConfidenceStreak: 1 },
      { reason: 'loop', rule: 'low_confidence_streak' },
    ],
    [
      'weak, limit of one',
      { confidence: 0.6, maxLowConfidenceTurns: 1 },
      { reason: 'loop', rule: 'low_confidence_streak' },
    ],
    [
      'weak, streak below the limit',
      { confidence: 0.69, lowConfidenceStreak: 1, maxLowConfidenceTurns: 3 },
      null,
    ],
    ['strong after a streak', { confidence: 0.7, lowConfidenceStreak: 5 }, null],
    [
      'under the threshold, the subject nowhere in the knowledge base',
      { confidence: 0.4, uncoveredSubject: ['fibra'] },
      { reason: 'unsupported', rule: 'uncovered_subject' },
    ],
    [
      'under the threshold, part of the subject found',
      { confidence: 0.4, uncoveredSubject: null },
      { reason: 'low_confidence', rule: 'below_threshold' },
    ],
    ['confident, whatever the coverage says', { confidence: 0.9, uncoveredSubject: ['fibra'] }, null],
    [
      'small talk is never about the knowledge base',
      { confidence: 0.4, smallTalk: true, uncoveredSubject: ['hi'] },
      { reason: 'low_confidence', rule: 'below_threshold' },
    ],
  ])('%s', (_, change, expected) => {
    const decision = detectFallbackAfterAnswer({ ...base, ...change });
    if (expected === null) expect(decision).toBeNull();
    else expect(decision).toMatchObject({ reason: expected.reason, evidence: { rule: expected.rule } });
  });

  it('names the subject the knowledge base does not hold', () => {
    expect(detectFallbackAfterAnswer({ ...base, confidence: 0.31, uncoveredSubject: ['fibra'] })).toEqual({
      reason: 'unsupported',
      evidence: {
        rule: 'uncovered_subject',
        missing: ['fibra'],
        confidence: 0.31,
        threshold: 0.55,
        hits: [
          { id: 'c1', score: 0.8 },
          { id: 'c2', score: 0.3 },
        ],
      },
    });
  });

  it('shows a person the scores and chunks behind the decision', () => {
    expect(detectFallbackAfterAnswer({ ...base, confidence: 0.4 })).toEqual({
      reason: 'low_confidence',
      evidence: { rule: 'below_threshold', confidence: 0.4, threshold: 0.55, chunks: ['c1'] },
    });
    expect(detectFallbackAfterAnswer({ ...base, minRelevance: 0.9 })).toEqual({
      reason: 'unsupported',
      evidence: {
        rule: 'no_relevant_knowledge',
        hits: [
          { id: 'c1', score: 0.8 },
          { id: 'c2', score: 0.3 },
        ],
        minRelevance: 0.9,
        confidence: 0.9,
      },
    });
  });
});

describe('isWeakAnswer', () => {
  it.each([
    [0.54, false],
    [0.55, true],
    [0.69, true],
    [0.7, false],
    [1, false],
  ])('confidence %d against 0.55 → %s', (confidence, weak) => {
    expect(isWeakAnswer(confidence, 0.55)).toBe(weak);
  });
});

describe('fallbackSettingsFor', () => {
  it('takes the workspace keywords, types, button ids and turn limit, with defaults for the rest', () => {
    const workspace = testConfig().workspaces[0]!;
    const derived = fallbackSettingsFor(workspace);
    expect(derived.keywords).toEqual(['human']);
    expect(derived.maxLowConfidenceTurns).toBe(2);
    expect(derived.unsupportedTypes).toEqual(DEFAULT_UNSUPPORTED_TYPES);
    expect(derived.humanRequestIds).toContain('talk_to_human');
    const configured = {
      ...workspace,
      fallback: { ...workspace.fallback, unsupportedTypes: ['sticker'], humanRequestIds: ['call_me'] },
    };
    expect(fallbackSettingsFor(configured)).toMatchObject({
      unsupportedTypes: ['sticker'],
      humanRequestIds: ['call_me'],
    });
  });

  it('accepts overrides', () => {
    const derived = fallbackSettingsFor(testConfig().workspaces[0]!, {
      unsupportedTypes: ['sticker'],
      loopWindow: 1,
    });
    expect(derived.unsupportedTypes).toEqual(['sticker']);
    expect(derived.loopWindow).toBe(1);
  });
});
