import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../persistence/schema.ts';
import { chunkDocument } from './chunker.ts';
import { listKnowledgeFiles } from './knowledge-files.ts';
import type { KnowledgeHit, KnowledgeSearch } from './knowledge-search.ts';
import { anyLexemeQuery, searchableText } from './search-text.ts';

export interface DocumentInput {
  /** Default: the document's first `#` heading, else its id made readable. */
  title?: string;
  content: string;
  /** Where it came from, for people: a `file:` URL, `api`, ... Folder ingests own the `file:` ones. */
  source: string;
  /** The Postgres text search configuration: english, spanish, portuguese, simple, ... */
  language: string;
}

export interface IngestProgress {
  done: number;
  total: number;
  /** The document just processed. */
  document: string;
}

/** How far the indexing of one document's passages has got: reported after each batch stored. */
export interface ChunkProgress {
  done: number;
  total: number;
}

export interface IngestResult {
  indexed: string[];
  unchanged: string[];
  deleted: string[];
  /** Documents stored over the API that a file of the same id has replaced: the folder wins. */
  replaced: string[];
}

/**
 * A document from a knowledge folder changed or deleted other than through its folder: the next sync would undo
 * it (a folder sync runs at every start and on every change to the folder), so it is refused.
 */
export class FolderDocumentError extends Error {
  constructor(
    readonly documentId: string,
    /** The file's `file:` URL. */
    readonly source: string,
  ) {
    super(
      `document ${documentId} comes from the knowledge folder file ${source}: edit or delete the file instead (the next folder sync would undo any change made here)`,
    );
    this.name = 'FolderDocumentError';
  }
}

export interface KnowledgeBase extends KnowledgeSearch {
  /**
   * Stores and indexes a document; does nothing when it has not changed. Returns whether it re-indexed. Throws
   * `FolderDocumentError` when a document of another source would replace one from a folder.
   */
  upsertDocument(
    workspaceId: string,
    documentId: string,
    input: DocumentInput,
    onProgress?: (progress: ChunkProgress) => void,
  ): Promise<{ indexed: boolean }>;
  /**
   * Returns whether the document existed. Throws `FolderDocumentError` for a document from a folder: only
   * its folder's sync deletes it, when its file is gone.
   */
  deleteDocument(workspaceId: string, documentId: string): Promise<boolean>;
  /**
   * Makes the workspace's file documents what the folders hold: new and changed files are indexed, documents
   * whose file is gone are deleted. Documents from other sources (the API) are left alone, unless a file of the
   * same id appears: the file replaces the document (listed in `replaced`).
   */
  ingestFolders(
    workspaceId: string,
    folders: string[],
    language: string,
    onProgress?: (progress: IngestProgress) => void,
  ): Promise<IngestResult>;
}

const FILE_SOURCE = 'file:';
const isFileSource = (source: string): boolean => source.startsWith(FILE_SOURCE);
/** Longer queries are cut: the answer to a question is never in its 33rd distinct word. */
const MAX_QUERY_TERMS = 32;
const MAX_QUERY_CHARS = 2_000;
/** Passages stored per insert; a document's progress is reported after each. */
const INSERT_BATCH = 500;
/**
 * The score is mostly coverage, the share of the query's weight a passage contains (each term weighted by its
 * rarity in the workspace), and a little of Postgres' cover density rank, which prefers passages where the
 * terms appear often and close together. Coverage is what makes scores comparable across queries: 0.8 means
 * "holds the terms carrying 80% of what the question is about", whatever the question.
 */
const RANK_SHARE = 0.2;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
/** Postgres text cannot hold NUL: a query or document carrying one would fail instead of being read. */
const withoutNul = (text: string): string => text.replaceAll('\u0000', ' ');

/** Rarer terms say more about what a question is about. A term absent from the workspace counts as rarest. */
const termWeight = (chunks: number, frequency: number): number =>
  Math.log(1 + chunks / Math.max(frequency, 1));

/** The knowledge base on Postgres (or PGlite) full-text search. Every query is scoped by workspace. */
export function createKnowledgeBase(db: Kysely<Database>): KnowledgeBase {
  /** The configuration's canonical name; refused when Postgres has no such configuration. */
  async function textSearchConfiguration(name: string): Promise<string> {
    const { rows } = await sql<{ name: string }>`select ${name}::regconfig::text as name`.execute(db);
    return rows[0]!.name;
  }

  async function upsertDocument(
    workspaceId: string,
    documentId: string,
    input: DocumentInput,
    onProgress?: (progress: ChunkProgress) => void,
  ): Promise<{ indexed: boolean }> {
    const language = await textSearchConfiguration(input.language);
    const content = withoutNul(input.content);
    const contentHash = sha256(content);
    const chunked = chunkDocument(content, { fileName: documentId });
    const title = input.title === undefined ? chunked.title : withoutNul(input.title);
    return db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('knowledge_documents')
        .select(['title', 'source', 'language', 'content_hash'])
        .where('workspace_id', '=', workspaceId)
        .where('document_id', '=', documentId)
        .forUpdate()
        .executeTakeFirst();
      if (existing && isFileSource(existing.source) && !isFileSource(input.source)) {
        throw new FolderDocumentError(documentId, existing.source);
      }
      if (
        existing?.content_hash === contentHash &&
        existing.title === title &&
        existing.source === input.source &&
        existing.language === language
      ) {
        return { indexed: false };
      }
      const changes = {
        title,
        source: input.source,
        language,
        content_hash: contentHash,
        updated_at: sql<Date>`now()`,
      };
      await trx
        .insertInto('knowledge_documents')
        .values({ workspace_id: workspaceId, document_id: documentId, ...changes })
        .onConflict((conflict) => conflict.columns(['workspace_id', 'document_id']).doUpdateSet(changes))
        .execute();
      await trx
        .deleteFrom('knowledge_chunks')
        .where('workspace_id', '=', workspaceId)
        .where('document_id', '=', documentId)
        .execute();
      const rows = chunked.passages.map((passage) => {
        // As written and as searchable (see searchableText), so that a question typed either way finds it.
        // Title and heading weigh more in the rank than the text (A, B, D); all three are searched.
        const vector = (text: string, weight: 'A' | 'B' | 'D') =>
          sql`setweight(to_tsvector(${language}::regconfig, ${text})
            || to_tsvector(${language}::regconfig, ${searchableText(text)}), ${weight})`;
        const heading = vector(passage.heading ?? '', 'B');
        const tsv = sql<string>`${vector(title, 'A')} || ${heading} || ${vector(passage.text, 'D')}`;
        return {
          workspace_id: workspaceId,
          id: `${documentId}#${passage.position}`,
          document_id: documentId,
          position: passage.position,
          title,
          heading: passage.heading,
          text: passage.text,
          language,
          tsv,
        };
      });
      for (let start = 0; start < rows.length; start += INSERT_BATCH) {
        const batch = rows.slice(start, start + INSERT_BATCH);
        await trx.insertInto('knowledge_chunks').values(batch).execute();
        onProgress?.({ done: start + batch.length, total: rows.length });
      }
      return { indexed: true };
    });
  }

  /** Any document, whatever its source: a folder sync's own deletion of a file that is gone. */
  async function removeDocument(workspaceId: string, documentId: string): Promise<void> {
    await db
      .deleteFrom('knowledge_documents')
      .where('workspace_id', '=', workspaceId)
      .where('document_id', '=', documentId)
      .execute();
  }

  async function deleteDocument(workspaceId: string, documentId: string): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('knowledge_documents')
        .select('source')
        .where('workspace_id', '=', workspaceId)
        .where('document_id', '=', documentId)
        .forUpdate()
        .executeTakeFirst();
      if (!existing) return false;
      if (isFileSource(existing.source)) throw new FolderDocumentError(documentId, existing.source);
      await trx
        .deleteFrom('knowledge_documents')
        .where('workspace_id', '=', workspaceId)
        .where('document_id', '=', documentId)
        .execute();
      return true;
    });
  }

  async function ingestFolders(
    workspaceId: string,
    folders: string[],
    language: string,
    onProgress?: (progress: IngestProgress) => void,
  ): Promise<IngestResult> {
    const files = await listKnowledgeFiles(folders);
    const result: IngestResult = { indexed: [], unchanged: [], deleted: [], replaced: [] };
    const configuration = await textSearchConfiguration(language);
    const documents = await db
      .selectFrom('knowledge_documents')
      .select(['document_id', 'source', 'language', 'content_hash'])
      .where('workspace_id', '=', workspaceId)
      .execute();
    const stored = documents.filter((document) => isFileSource(document.source));
    const storedById = new Map(stored.map((document) => [document.document_id, document]));
    const fromApi = new Set(
      documents.filter((document) => !isFileSource(document.source)).map((document) => document.document_id),
    );
    for (const [index, file] of files.entries()) {
      const content = await readFile(file.path, 'utf8');
      const source = pathToFileURL(file.path).href;
      // A file's title comes from its content and name alone: same text at the same path, same document.
      // Known without chunking it again, which keeps a restart, or a watcher's sync after one edit, cheap.
      const known = storedById.get(file.documentId);
      const unchanged =
        known?.content_hash === sha256(withoutNul(content)) &&
        known.source === source &&
        known.language === configuration;
      const indexed =
        !unchanged &&
        (await upsertDocument(workspaceId, file.documentId, { content, source, language })).indexed;
      (indexed ? result.indexed : result.unchanged).push(file.documentId);
      if (fromApi.has(file.documentId)) result.replaced.push(file.documentId);
      onProgress?.({ done: index + 1, total: files.length, document: file.documentId });
    }
    const present = new Set(files.map((file) => file.documentId));
    for (const { document_id } of stored) {
      if (present.has(document_id)) continue;
      await removeDocument(workspaceId, document_id);
      result.deleted.push(document_id);
    }
    return result;
  }

  /**
   * The query's terms in each text search configuration the workspace's documents use: per word, the lexemes of
   * the word as typed and without accents (stemmers stem "tardáis" but not "tardais", "batería" and "bateria"
   * differently), with its alternatives. A word that is a stop word as typed is no term at all.
   */
  async function queryTerms(workspaceId: string, query: string) {
    const terms = withoutNul(query.slice(0, MAX_QUERY_CHARS))
      .split(/\s+/)
      .filter((term) => term !== '')
      .slice(0, MAX_QUERY_TERMS)
      .map((term) => term.split('|').filter((word) => word !== ''));
    const words = terms.flat();
    const termOf = terms.flatMap((alternatives, term) => alternatives.map(() => term));
    const { rows } = await sql<{
      language: string;
      chunks: number;
      term: number;
      typed: string[];
      folded: string[];
    }>`
      select d.language,
        (select count(*) from knowledge_chunks c
          where c.workspace_id = ${workspaceId} and c.language = d.language)::int as chunks,
        w.term,
        tsvector_to_array(to_tsvector(d.language::regconfig, w.word)) as typed,
        tsvector_to_array(to_tsvector(d.language::regconfig, w.folded)) as folded
      from (select distinct language from knowledge_documents where workspace_id = ${workspaceId}) d
      cross join unnest(${words}::text[], ${words.map(searchableText)}::text[], ${termOf}::int[])
        as w(word, folded, term)
      order by d.language, w.term`.execute(db);
    const languages = new Map<string, { chunks: number; terms: Map<number, Set<string>> }>();
    for (const row of rows) {
      const language = languages.get(row.language) ?? { chunks: row.chunks, terms: new Map() };
      languages.set(row.language, language);
      if (row.typed.length === 0) continue;
      const lexemes = language.terms.get(row.term) ?? new Set<string>();
      for (const lexeme of [...row.typed, ...row.folded]) lexemes.add(lexeme);
      language.terms.set(row.term, lexemes);
    }
    return [...languages].map(([language, { chunks, terms: found }]) => {
      // "opening hours" with hours an alternative of opening is one term, not two.
      const distinct = new Map(
        [...found.values()].map((lexemes) => [[...lexemes].sort().join(' '), [...lexemes]]),
      );
      return { language, chunks, terms: [...distinct.values()] };
    });
  }

  async function searchLanguage(
    workspaceId: string,
    language: string,
    terms: string[][],
    chunks: number,
    limit: number,
  ): Promise<KnowledgeHit[]> {
    const termQueries = terms.map(anyLexemeQuery);
    const anyTerm = anyLexemeQuery(terms.flat());
    const { rows: frequencies } = await sql<{ frequency: number }>`
      select (select count(*) from knowledge_chunks c
          where c.workspace_id = ${workspaceId} and c.language = ${language}
            and c.tsv @@ t.query::tsquery)::int as frequency
      from unnest(${termQueries}::text[]) with ordinality as t(query, n)
      order by t.n`.execute(db);
    const weights = frequencies.map((row) => termWeight(chunks, row.frequency));
    const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
    const { rows } = await sql<KnowledgeHit>`
      select c.id, c.document_id as "documentId", c.title, c.heading, c.text,
        (1 - ${RANK_SHARE}::float8) * (
          select coalesce(sum(t.weight), 0) from unnest(${termQueries}::text[], ${weights}::float8[]) as t(query, weight)
          where c.tsv @@ t.query::tsquery
        ) / ${totalWeight}::float8
        + ${RANK_SHARE}::float8 * ts_rank_cd(c.tsv, ${anyTerm}::tsquery, 32) as score
      from knowledge_chunks c
      where c.workspace_id = ${workspaceId} and c.language = ${language}
        and c.tsv @@ ${anyTerm}::tsquery
      order by score desc, c.document_id, c.position
      limit ${limit}`.execute(db);
    return rows.map((row) => ({ ...row, score: Math.min(1, Math.max(0, Number(row.score))) }));
  }

  async function search(
    workspaceId: string,
    query: string,
    options: { limit?: number } = {},
  ): Promise<KnowledgeHit[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 5, 50));
    const hits: KnowledgeHit[] = [];
    for (const { language, terms, chunks } of await queryTerms(workspaceId, query)) {
      // Nothing left of the query once stop words are gone ("the", "¿y?", "🙂"): nothing to look for.
      if (terms.length > 0) hits.push(...(await searchLanguage(workspaceId, language, terms, chunks, limit)));
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, limit);
  }

  return { upsertDocument, deleteDocument, ingestFolders, search };
}
