import type { KnowledgeBase } from './knowledge-base.ts';
import type { KnowledgeHit } from './knowledge-search.ts';

export interface SearchCacheOptions {
  /** ms since epoch; the engine's clock. */
  now: () => number;
  /** Bounds how long another node's document change can go unseen here (this node's own clear it at once). */
  ttlMs?: number;
  maxEntries?: number;
}

interface Entry {
  at: number;
  generation: number;
  hits: Promise<KnowledgeHit[]>;
}

/**
 * Remembers search results per workspace and query. Customers ask the same few questions all day, and each
 * search is three full-text queries in Postgres; the answer only changes when the workspace's documents do.
 * Concurrent identical searches share one. A document written or deleted through this knowledge base forgets
 * the workspace's results at once; one changed by another node is seen within `ttlMs`.
 */
export function withSearchCache(base: KnowledgeBase, options: SearchCacheOptions): KnowledgeBase {
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  const generations = new Map<string, number>();
  const generationOf = (workspaceId: string) => generations.get(workspaceId) ?? 0;

  /** Before and after a change: a search that ran across it cannot be kept either. */
  const forget = (workspaceId: string) => {
    generations.set(workspaceId, generationOf(workspaceId) + 1);
  };
  const changing = async <T>(workspaceId: string, change: () => Promise<T>): Promise<T> => {
    forget(workspaceId);
    try {
      return await change();
    } finally {
      forget(workspaceId);
    }
  };

  return {
    async search(workspaceId, query, searchOptions) {
      const key = `${workspaceId}\u0000${searchOptions?.limit ?? ''}\u0000${query}`;
      const now = options.now();
      const generation = generationOf(workspaceId);
      let entry = entries.get(key);
      if (!entry || entry.generation !== generation || now - entry.at > ttlMs) {
        entry = { at: now, generation, hits: base.search(workspaceId, query, searchOptions) };
        entries.delete(key);
        entries.set(key, entry);
        // Maps iterate in insertion order: the first key is the least recently stored.
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
        const stored = entry;
        stored.hits.catch(() => {
          if (entries.get(key) === stored) entries.delete(key);
        });
      }
      // Copies: a caller may keep or change what it got without touching what the next one gets.
      return (await entry.hits).map((hit) => ({ ...hit }));
    },
    upsertDocument: (workspaceId, documentId, input, onProgress) =>
      changing(workspaceId, () => base.upsertDocument(workspaceId, documentId, input, onProgress)),
    deleteDocument: (workspaceId, documentId) =>
      changing(workspaceId, () => base.deleteDocument(workspaceId, documentId)),
    ingestFolders: (workspaceId, folders, language, onProgress) =>
      changing(workspaceId, () => base.ingestFolders(workspaceId, folders, language, onProgress)),
  };
}
