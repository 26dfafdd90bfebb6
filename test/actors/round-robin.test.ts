import { describe, expect, it } from 'vitest';
import { nextAgent } from '../../src/actors/round-robin.ts';

describe('nextAgent', () => {
  const agents = ['alice', 'bob', 'carol'];
  const none = new Map<string, number>();

  it('starts after the last agent assigned and wraps around', () => {
    expect(nextAgent(agents, none, 2, undefined)).toBe('alice');
    expect(nextAgent(agents, none, 2, 'alice')).toBe('bob');
    expect(nextAgent(agents, none, 2, 'carol')).toBe('alice');
    // The last one may have gone unavailable: start from the beginning.
    expect(nextAgent(agents, none, 2, 'dave')).toBe('alice');
  });

  it('passes by agents at capacity, and finds nobody when everyone is full', () => {
    const load = new Map([
      ['alice', 2],
      ['bob', 2],
    ]);
    expect(nextAgent(agents, load, 2, 'carol')).toBe('carol');
    expect(nextAgent(agents, new Map([...load, ['carol', 2]]), 2, undefined)).toBeUndefined();
    expect(nextAgent([], none, 2, undefined)).toBeUndefined();
  });
});
