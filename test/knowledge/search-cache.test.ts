import { describe, expect, it } from 'vitest';
import type { KnowledgeBase } from '../../src/knowledge/knowledge-base.ts';
import type { KnowledgeHit } from '../../src/knowledge/knowledge-search.ts';
import { withSearchCache } from '../../src/knowledge/search-cache.ts';

function countingBase() {
  const calls: string[] = [];
  let text = 'We open at 7:00.';
  const hit = (query: string): KnowledgeHit => ({
    id: 'hours.md#1',
    documentId: 'hours.md',
    title: 'Hours',
    heading: null,
    text: `${text} (${query})`,
    score: 0.9,
  });
  const base: KnowledgeBase = {
    async search(workspaceId, query) {
      calls.push(`${workspaceId}:${query}`);
      return [hit(query)];
    },
    async upsertDocument() {
      text = 'We open at 8:00.';
      return { indexed: true };
    },
    deleteDocument: async () => true,
    ingestFolders: async () => ({ indexed: [], unchanged: [], deleted: [], replaced: [] }),
  };
  return { base, calls };
}

describe('withSearchCache', () => {
  it('searches once per workspace and query until the time to live runs out', async () => {
    const { base, calls } = countingBase();
    let now = 0;
    const cached = withSearchCache(base, { now: () => now, ttlMs: 1_000 });
    await Promise.all([cached.search('acme', 'hours'), cached.search('acme', 'hours')]);
    await cached.search('acme', 'hours');
    await cached.search('globex', 'hours');
    expect(calls).toEqual(['acme:hours', 'globex:hours']);
    now = 1_001;
    await cached.search('acme', 'hours');
    expect(calls).toHaveLength(3);
  });

  it("forgets a workspace's results when one of its documents changes here", async () => {
    const { base, calls } = countingBase();
    const cached = withSearchCache(base, { now: () => 0 });
    await cached.search('acme', 'hours');
    await cached.search('globex', 'hours');
    await cached.upsertDocument('acme', 'hours.md', {
      content: '# Hours',
      source: 'api',
      language: 'english',
    });
    const [hit] = await cached.search('acme', 'hours');
    expect(hit!.text).toContain('8:00');
    await cached.search('globex', 'hours');
    expect(calls).toEqual(['acme:hours', 'globex:hours', 'acme:hours']);
  });

  it('hands out copies, and does not keep a failed search', async () => {
    const { base, calls } = countingBase();
    let fail = true;
    const flaky: KnowledgeBase = {
      ...base,
      search: async (...args) => {
        if (fail) throw new Error('database is down');
        return base.search(...args);
      },
    };
    const cached = withSearchCache(flaky, { now: () => 0 });
    await expect(cached.search('acme', 'hours')).rejects.toThrow('database is down');
    fail = false;
    const [first] = await cached.search('acme', 'hours');
    first!.text = 'changed by a caller';
    const [second] = await cached.search('acme', 'hours');
    expect(second!.text).not.toBe('changed by a caller');
    expect(calls).toEqual(['acme:hours']);
  });
});
