import { describe, expect, it } from 'vitest';
import type { KnowledgeHit } from '../../src/knowledge/knowledge-search.ts';
import { answerFromPassages } from '../../src/knowledge/passage-answer.ts';

const hit = (
  id: string,
  heading: string | null,
  text: string,
  score = 0.9,
  title = 'Café guide',
): KnowledgeHit => ({
  id,
  documentId: id.split('#')[0]!,
  title,
  heading,
  text,
  score,
});

const HOURS = hit(
  'hours.md#1',
  'Old Town café',
  [
    'Address: 12 Harbour Street.',
    '| Day | Hours |\n| --- | --- |\n| Monday to Friday | 7:00 – 19:00 |\n| Sunday | 9:00 – 15:00 |',
    'The kitchen closes one hour before the café. We roast on Tuesdays.',
  ].join('\n\n'),
);
const KIOSK = hit(
  'hours.md#2',
  'Station kiosk',
  '| Day | Hours |\n| --- | --- |\n| Monday to Friday | 6:30 – 15:00 |\n| Sunday | Closed |',
  0.88,
);
const DRINKS = hit(
  'menu.md#1',
  'Drinks',
  '| Drink | Price |\n| --- | --- |\n| Espresso | $2.80 |\n| Cappuccino | $4.20 |\n| Flat white | $4.40 |',
);
const PAYMENTS = hit(
  'payments.md#0',
  'In the café',
  'The café accepts:\n\n- Cash (US dollars)\n- **Visa** and Mastercard\n- Apple Pay\n\nThe kiosk does not accept cash.',
);

describe('answerFromPassages', () => {
  it('lists the whole enumeration when its items match the question on the title words alone', () => {
    const cafe = hit(
      'payment-methods.md#0',
      'In the café',
      'The café accepts:\n\n- Cash\n- Visa and Mastercard\n- Gift cards',
      0.96,
      'Payment methods',
    );
    const online = hit(
      'payment-methods.md#1',
      'In the online shop',
      'At checkout you can pay with:\n\n- Visa\n- PayPal\n- Gift card codes (combine them with another payment method)',
      0.95,
      'Payment methods',
    );
    const answer = answerFromPassages('What payment methods do you accept?', [cafe, online])!;
    // Each passage's whole list, under its heading, whichever leads.
    expect(answer.text.split('\n\n').sort()).toEqual([
      ['*In the café*', 'The café accepts:', '- Cash', '- Visa and Mastercard', '- Gift cards'].join('\n'),
      [
        '*In the online shop*',
        'At checkout you can pay with:',
        '- Visa',
        '- PayPal',
        '- Gift card codes (combine them with another payment method)',
      ].join('\n'),
    ]);
  });

  it('quotes the row a question names, not the whole table', () => {
    expect(answerFromPassages('How much is a cappuccino?', [DRINKS])).toEqual({
      text: 'Cappuccino: $4.20',
      chunks: ['menu.md#1'],
    });
  });

  it('quotes a whole table whose header the question names, from every passage that close', () => {
    const answer = answerFromPassages('What are your opening hours?', [HOURS, KIOSK])!;
    expect(answer.text).toBe(
      [
        '*Old Town café*',
        'Monday to Friday: 7:00 – 19:00',
        'Sunday: 9:00 – 15:00',
        '',
        '*Station kiosk*',
        'Monday to Friday: 6:30 – 15:00',
        'Sunday: Closed',
      ].join('\n'),
    );
    expect(answer.chunks).toEqual(['hours.md#1', 'hours.md#2']);
  });

  it('leaves out passages scoring clearly below the best', () => {
    const answer = answerFromPassages('opening hours', [HOURS, { ...KIOSK, score: 0.5 }])!;
    expect(answer.chunks).toEqual(['hours.md#1']);
    expect(answer.text).not.toContain('Station');
  });

  it('quotes a list item with the sentence that introduces it, in WhatsApp bold', () => {
    expect(answerFromPassages('Do you take Visa?', [PAYMENTS])!.text).toBe(
      'The café accepts:\n- *Visa* and Mastercard',
    );
    expect(answerFromPassages('Do you accept cash?', [PAYMENTS])!.text).toBe(
      'The café accepts:\n- Cash (US dollars)\nThe kiosk does not accept cash.',
    );
  });

  it('quotes the whole list when the question names what it lists', () => {
    expect(answerFromPassages('What do you accept?', [PAYMENTS])!.text).toBe(
      'The café accepts:\n- Cash (US dollars)\n- *Visa* and Mastercard\n- Apple Pay',
    );
  });

  it('goes on with the next sentence when the best one alone is short', () => {
    expect(answerFromPassages('When does the kitchen close?', [HOURS])!.text).toBe(
      'The kitchen closes one hour before the café. We roast on Tuesdays.',
    );
  });

  it('prefers the passage whose heading reads like the question', () => {
    const faq = [
      hit('returns.md#6', 'What cannot be refunded', 'Gift cards cannot be refunded.', 0.92),
      hit(
        'returns.md#5',
        'When will I get my money back?',
        'We refund within 5 business days of the return.',
        0.91,
      ),
    ];
    const answer = answerFromPassages('When will I get my refund?', faq)!;
    expect(answer.chunks[0]).toBe('returns.md#5');
    expect(answer.text.startsWith('We refund within 5 business days')).toBe(true);
  });

  it('falls back on the opening of the best passage when only its title matched', () => {
    const opening = [
      'Harbour Club is free to join and open to everyone who buys coffee from us, online or in the café.',
      'Members collect points at both locations and turn them into free drinks.',
    ];
    const answer = answerFromPassages('loyalty', [
      hit('club.md#0', null, `${opening.join(' ')} Points expire. Leaving is free.`, 0.8, 'Loyalty'),
    ])!;
    expect(answer.text).toBe(opening.join(' '));
  });

  it('cuts a long answer at a word, with an ellipsis', () => {
    const blends = Array.from({ length: 40 }, (_, i) => `blend number ${i}`).join(', ');
    const answer = answerFromPassages('blends', [hit('beans.md#0', 'Beans', `We roast ${blends}.`)], {
      maxChars: 200,
    })!;
    expect(answer.text.length).toBeLessThanOrEqual(200);
    expect(answer.text).toMatch(/^We roast blend number 0, blend number 1, [\w ,]+[a-z0-9]…$/);
  });

  it('has no answer without passages', () => {
    expect(answerFromPassages('anything', [])).toBeNull();
  });
});
