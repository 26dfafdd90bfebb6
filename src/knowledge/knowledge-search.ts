/** A passage of a workspace's knowledge base: a document cut along its headings and paragraphs. */
export interface KnowledgeChunk {
  id: string;
  documentId: string;
  /** The document's title (its first heading, or its file name). */
  title: string;
  /** The heading path the passage sits under, e.g. "Returns › Refund times". */
  heading: string | null;
  text: string;
}

export interface KnowledgeHit extends KnowledgeChunk {
  /** Relevance in 0..1, comparable across queries of one workspace: what confidence is built from. */
  score: number;
}

/** The knowledge base as the AI agent sees it. Always scoped to one workspace. */
export interface KnowledgeSearch {
  /**
   * The passages best matching `query`, best first. The query is words; `a|b` makes alternatives of one term
   * ("cost|price"). Stop words and punctuation are ignored: a query of nothing else finds nothing.
   */
  search(workspaceId: string, query: string, options?: { limit?: number }): Promise<KnowledgeHit[]>;
}
