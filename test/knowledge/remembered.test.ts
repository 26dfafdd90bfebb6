import { describe, expect, it } from 'vitest';
import { remembered } from '../../src/knowledge/remembered.ts';

describe('remembered', () => {
  it('computes once per key, keyed by the first argument or by keyOf', () => {
    const calls: string[] = [];
    const upper = remembered(10, (text: string) => {
      calls.push(text);
      return text.toUpperCase();
    });
    expect([upper('a'), upper('b'), upper('a')]).toEqual(['A', 'B', 'A']);
    expect(calls).toEqual(['a', 'b']);

    const pairs: string[] = [];
    const joined = remembered(
      10,
      (n: number, text: string) => {
        pairs.push(`${n}${text}`);
        return `${n}:${text}`;
      },
      (n, text) => `${n}\u0000${text}`,
    );
    expect([joined(1, 'x'), joined(2, 'x'), joined(1, 'x')]).toEqual(['1:x', '2:x', '1:x']);
    expect(pairs).toEqual(['1x', '2x']);
  });

  it('keeps at most `limit` keys, starting over past it', () => {
    const calls: string[] = [];
    const same = remembered(2, (text: string) => {
      calls.push(text);
      return text;
    });
    for (const text of ['a', 'b', 'c', 'a', 'c']) same(text);
    // 'c' found the memory full: it starts over holding 'c' alone, so 'a' is computed again and 'c' is not.
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });
});
