import { describe, expect, it } from 'vitest';
import { nextAgent } from '../../src/actors/round-robin.ts';

describe('nextAgent', () => {
  const agents = ['alice', 'bob', 'carol'];
  const none = new Map<string, number>();
  const two = () => 2;

  it('starts after the last agent assigned and wraps around', () => {
    expect(nextAgent(agents, none, two, undefined)).toBe('alice');
    expect(nextAgent(agents, none, two, 'alice')).toBe('bob');
    expect(nextAgent(agents, none, two, 'carol')).toBe('alice');
    // The last one may have gone unavailable: start from the beginning.
    expect(nextAgent(agents, none, two, 'dave')).toBe('alice');
  });

  it('passes by agents at capacity, and finds nobody when everyone is full', () => {
    const load = new Map([
      ['alice', 2],
      ['bob', 2],
    ]);
    expect(nextAgent(agents, load, two, 'carol')).toBe('carol');
    expect(nextAgent(agents, new Map([...load, ['carol', 2]]), two, undefined)).toBeUndefined();
    expect(nextAgent([], none, two, undefined)).toBeUndefined();
  });

  it('measures each agent against their own capacity', () => {
    const capacities = new Map([
      ['alice', 1],
      ['bob', 4],
    ]);
    const capacityOf = (agent: string) => capacities.get(agent) ?? 2;
    const load = new Map([
      ['alice', 1],
      ['bob', 3],
      ['carol', 2],
    ]);
    expect(nextAgent(agents, load, capacityOf, undefined)).toBe('bob');
    expect(nextAgent(agents, new Map([...load, ['bob', 4]]), capacityOf, undefined)).toBeUndefined();
  });
});
