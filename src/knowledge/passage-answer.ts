import { HEADING_SEPARATOR } from './chunker.ts';
import type { KnowledgeHit } from './knowledge-search.ts';
import { plain, type Unit, unitsOf } from './passage-units.ts';
import { searchTerms, wordsOf } from './query-words.ts';
import { holdsTerm, holdsWord } from './word-match.ts';

export interface PassageAnswer {
  /** Plain text for WhatsApp: a few sentences, list items or table rows, bold as `*…*`. */
  text: string;
  /** The chunks the text was taken from. */
  chunks: string[];
}

export interface PassageAnswerOptions {
  maxChars?: number;
  /** Sentences, list items, table rows (or whole tables) an answer is made of, at most. */
  maxUnits?: number;
}

interface Scored {
  unit: Unit;
  score: number;
}

/** Passages within this much of the best one's score are as likely to hold the answer. */
const CLOSE_SCORE = 0.05;
const MAX_PASSAGES = 3;
/** A unit joins the best one when it scores at least this share of the best one's score. */
const RELATIVE_SCORE = 0.6;
/** Answers shorter than this many characters are completed with the sentences that follow. */
const SHORT_ANSWER = 160;
/**
 * A list or table matched on its header or introduction ("what are your hours?" and a table with an Hours
 * column) is an enumeration of exactly what was asked, worth more than a sentence mentioning the word.
 */
const ENUMERATION_WEIGHT = 2;
/**
 * A word of the document's title is what every passage of it is about ("payment" in "Payment methods"): it
 * tells its units apart less than the other words of the question.
 */
const TITLE_WEIGHT = 0.5;
/** A word of the heading counts for every unit under it, though less than the unit's own words. */
const HEADING_WEIGHT = 0.5;

/**
 * How much a passage's heading reads like the question, 0..1, on all the question's words: FAQ-style headings
 * ("When will I get my money back?") match the way a question is asked, not just its subject.
 */
function headingAffinity(question: string[], heading: string[]): number {
  const shared = heading.filter((word) => holdsWord(question, word)).length;
  // One shared word ("does") is chance; the heading has to read like the question.
  return shared < 2 ? 0 : shared / heading.length;
}

function scoreUnits(question: string, hits: KnowledgeHit[], units: Unit[]): Scored[] {
  const subject = searchTerms(question).map((term) => term.flatMap(wordsOf));
  // Words that many units share ("coffee" in a café) say less about which unit answers.
  const weights = subject.map((term) => {
    const holders = units.filter((unit) => holdsTerm(term, unit.words)).length;
    return Math.log(1 + units.length / (1 + holders));
  });
  const asked = wordsOf(question);
  const passages = hits.map((hit) => {
    const title = wordsOf(hit.title);
    const heading = wordsOf(hit.heading?.split(HEADING_SEPARATOR).at(-1) ?? '').filter(
      (word) => word.length > 1,
    );
    const inTitle = subject.map((term) => holdsTerm(term, title));
    return {
      inTitle,
      inHeading: subject.map((term) => holdsTerm(term, heading)),
      weights: weights.map((weight, i) => (inTitle[i] ? TITLE_WEIGHT * weight : weight)),
      affinity: 1 + 2 * headingAffinity(asked, heading),
    };
  });
  const wordScore = (unit: Unit): number => {
    const passage = passages[unit.hit]!;
    return subject.reduce((sum, term, i) => {
      if (holdsTerm(term, unit.words)) return sum + passage.weights[i]!;
      return passage.inHeading[i] ? sum + HEADING_WEIGHT * passage.weights[i]! : sum;
    }, 0);
  };
  return units.map((unit) => {
    const passage = passages[unit.hit]!;
    let score = wordScore(unit);
    if (unit.kind === 'list' || unit.kind === 'table') {
      // A whole list or table only when none of its items or rows is itself about the question.
      const precise = unit.parts.some(
        (part) =>
          part.kind !== 'sentence' &&
          subject.some((term, i) => !passage.inTitle[i] && holdsTerm(term, part.ownWords)),
      );
      // Otherwise it is worth at least its best part: an item that matched on the title's words alone ("payment
      // method" in "Payment methods") is one of the enumeration asked for, not the answer by itself.
      score = precise ? 0 : ENUMERATION_WEIGHT * Math.max(score, ...unit.parts.map(wordScore));
    }
    return { unit, score: score * hits[unit.hit]!.score * passage.affinity };
  });
}

/** The units to quote: the best one, and those nearly as good, each with the units it needs to make sense. */
function selectUnits(scored: Scored[], maxUnits: number, maxChars: number): Unit[] {
  const ranked = scored.filter((entry) => entry.score > 0).sort((a, b) => b.score - a.score);
  const best = ranked[0];
  // Nothing but the title matched: the passage's opening is the best summary of it.
  if (!best)
    return scored
      .filter((entry) => entry.unit.text !== '')
      .slice(0, 2)
      .map((entry) => entry.unit);
  const chosen = new Set<Unit>();
  let picked = 0;
  let chars = 0;
  for (const { unit, score } of ranked) {
    if (picked >= maxUnits || score < RELATIVE_SCORE * best.score) break;
    const extra = [unit, ...unit.parts].filter((member) => member.text !== '' && !chosen.has(member));
    if (extra.length === 0) continue;
    const size = extra.reduce((sum, member) => sum + member.text.length + 1, 0);
    if (picked > 0 && chars + size > maxChars) continue;
    for (const member of extra) chosen.add(member);
    chars += size;
    picked++;
  }
  return [...chosen];
}

/**
 * A short answer goes on with the sentences that follow its own in the paragraph: "We hire baristas a few times
 * a year." says more with "Send your CV to jobs@...".
 */
function withFollowingSentences(chosen: Unit[], units: Unit[], maxChars: number): Unit[] {
  const result = [...chosen];
  let chars = result.reduce((sum, unit) => sum + unit.text.length + 1, 0);
  for (const unit of chosen) {
    if (unit.kind !== 'sentence') continue;
    let next = units[units.indexOf(unit) + 1];
    while (
      chars < SHORT_ANSWER &&
      next?.kind === 'sentence' &&
      next.hit === unit.hit &&
      next.block === unit.block &&
      !result.includes(next) &&
      chars + next.text.length + 1 <= maxChars
    ) {
      result.push(next);
      chars += next.text.length + 1;
      next = units[units.indexOf(next) + 1];
    }
  }
  return result;
}

/** Sentences of a paragraph on one line; list items, rows and tables on their own lines. */
function renderUnits(units: Unit[]): string {
  const lines: string[] = [];
  units.forEach((unit, i) => {
    const previous = units[i - 1];
    const next = units[i + 1];
    if (unit.kind === 'sentence' && previous?.kind === 'sentence' && previous.block === unit.block) {
      lines[lines.length - 1] += ` ${unit.text}`;
      return;
    }
    // Items of one list, or an item after its introduction, read as a list; a lone item as a sentence.
    const listed =
      unit.kind === 'item' &&
      (previous?.block === unit.block ||
        next?.block === unit.block ||
        (previous !== undefined && unit.parts.includes(previous)));
    lines.push(listed ? `- ${unit.text}` : unit.text);
  });
  return lines.join('\n');
}

function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars - 1);
  const lineEnd = cut.lastIndexOf('\n');
  const wordEnd = cut.lastIndexOf(' ');
  const end = lineEnd > maxChars / 2 ? lineEnd : wordEnd > 0 ? wordEnd : cut.length;
  return `${cut.slice(0, end).trimEnd()}…`;
}

const label = (heading: string | null): string | null => {
  const last = heading?.split(HEADING_SEPARATOR).at(-1);
  return last && !last.endsWith('?') ? `*${plain(last)}*` : null;
};

/**
 * An answer quoted from the best passages: the few sentences, list items or table rows that share the most
 * (and the rarest) words with the question, rather than whole passages. Passages scoring close to the best
 * are read too, since the answer may be split between them (the hours of two shops); when the answer draws on
 * several, each part is labelled with its heading. Null when there are no hits.
 */
export function answerFromPassages(
  question: string,
  hits: KnowledgeHit[],
  options: PassageAnswerOptions = {},
): PassageAnswer | null {
  const maxChars = options.maxChars ?? 500;
  const maxUnits = options.maxUnits ?? 3;
  const top = hits[0];
  if (!top) return null;
  const passages = hits.filter((hit) => hit.score >= top.score - CLOSE_SCORE).slice(0, MAX_PASSAGES);
  const units = passages.flatMap((hit, index) => unitsOf(index, hit.text));
  const chosen = withFollowingSentences(
    selectUnits(scoreUnits(question, passages, units), maxUnits, maxChars),
    units,
    maxChars,
  );
  // In the order they were chosen: the passage holding the best unit comes first.
  const used = [...new Set(chosen.map((unit) => unit.hit))];
  const parts = used.map((hit) => {
    const text = renderUnits(chosen.filter((unit) => unit.hit === hit).sort((a, b) => a.order - b.order));
    const heading = used.length > 1 ? label(passages[hit]!.heading) : null;
    return heading ? `${heading}\n${text}` : text;
  });
  return { text: truncate(parts.join('\n\n'), maxChars), chunks: used.map((hit) => passages[hit]!.id) };
}
