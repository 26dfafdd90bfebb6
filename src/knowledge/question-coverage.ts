import type { KnowledgeHit } from './knowledge-search.ts';
import { isFacetTerm, searchTerms, wordsOf } from './query-words.ts';
import { holdsTerm } from './word-match.ts';

/**
 * The words naming what the question is about, when none of the hits holds any of them: the knowledge base then
 * matched only on what the question asks of its subject (a price, opening hours) and does not cover the subject
 * itself ("¿qué tarifa de fibra me recomiendas?" against the price tables of phone repairs). Null when a hit
 * holds part of the subject, or when the question names no subject but the business ("what are your hours?").
 */
export function uncoveredSubject(question: string, hits: readonly KnowledgeHit[]): string[] | null {
  const subject = searchTerms(question)
    .filter((term) => !isFacetTerm(term))
    .map((term) => term.flatMap(wordsOf));
  if (subject.length === 0) return null;
  const passages = hits.map((hit) => [
    ...wordsOf(hit.title),
    ...wordsOf(hit.heading ?? ''),
    ...wordsOf(hit.text),
  ]);
  if (subject.some((term) => passages.some((words) => holdsTerm(term, words)))) return null;
  return subject.map((term) => term[0]!);
}
