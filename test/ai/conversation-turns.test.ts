import { describe, expect, it } from 'vitest';
import { conversationTurns, HANDBACK_NOTE, OMITTED_NOTE } from '../../src/ai/conversation-turns.ts';
import type { CustomerMessage, HistoryEntry } from '../../src/machines/session.ts';

const said = (wamid: string, text: string | null, type = 'text'): HistoryEntry => ({
  kind: 'customer',
  at: 0,
  wamid,
  type,
  text,
});
const burst = (wamid: string, text: string | null, type = 'text'): CustomerMessage => ({
  wamid,
  type,
  text,
  sentAt: 0,
});
const ai = (text: string): HistoryEntry => ({ kind: 'ai', at: 0, text, confidence: 0.9, chunks: [] });

describe('conversationTurns', () => {
  it.each<[string, HistoryEntry[], CustomerMessage[], { role: string; content: string }[]]>([
    ['a first message', [said('w1', 'Hi')], [burst('w1', 'Hi')], [{ role: 'user', content: 'Hi' }]],
    [
      'a burst merges into one turn',
      [said('w1', 'Hi'), said('w2', 'my order'), said('w3', 'is late')],
      [burst('w1', 'Hi'), burst('w2', 'my order'), burst('w3', 'is late')],
      [{ role: 'user', content: 'Hi\nmy order\nis late' }],
    ],
    [
      'a burst cut out of a capped history is still sent',
      [said('w1', 'Hi'), ai('Hello!')],
      [burst('w2', 'a'), burst('w3', 'b')],
      [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'a\nb' },
      ],
    ],
    [
      'a history that starts with a reply gets a note first',
      [ai('Hello!'), said('w2', 'Thanks')],
      [burst('w2', 'Thanks')],
      [
        { role: 'user', content: OMITTED_NOTE },
        { role: 'assistant', content: 'Hello!' },
        { role: 'user', content: 'Thanks' },
      ],
    ],
    [
      'media and buttons say what they were',
      [
        said('w1', null, 'sticker'),
        said('w2', 'receipt', 'image'),
        said('w3', 'Track my order', 'interactive'),
      ],
      [burst('w3', 'Track my order', 'interactive')],
      [{ role: 'user', content: '[sticker]\n[image] receipt\n[interactive] Track my order' }],
    ],
    [
      'an empty text',
      [said('w1', '  ')],
      [burst('w1', '  ')],
      [{ role: 'user', content: '[empty message]' }],
    ],
    [
      'a handback right after the customer wrote joins their turn',
      [said('w1', 'refund?'), { kind: 'handback', at: 0, agentId: 'alice' }, said('w2', 'hello?')],
      [burst('w2', 'hello?')],
      [{ role: 'user', content: `refund?\n${HANDBACK_NOTE}\nhello?` }],
    ],
    [
      'fallback, system and delivery records are left out',
      [
        said('w1', 'refund?'),
        { kind: 'fallback', at: 0, reason: 'keyword', evidence: { rule: 'keyword' } },
        { kind: 'system', at: 0, text: 'Sorry for the wait' },
        { kind: 'delivery_failed', at: 0, wamid: 'out1', code: 131047, title: 'Re-engagement message' },
        { kind: 'agent', at: 0, agentId: 'alice', text: 'Done.' },
        said('w2', 'thanks'),
      ],
      [burst('w2', 'thanks')],
      [
        { role: 'user', content: 'refund?' },
        { role: 'assistant', content: 'Done.' },
        { role: 'user', content: 'thanks' },
      ],
    ],
  ])('%s', (_, history, unanswered, expected) => {
    expect(conversationTurns(history, unanswered)).toEqual(expected);
  });
});
