import { HEADING_SEPARATOR } from './chunker.ts';
import type { KnowledgeHit } from './knowledge-search.ts';
import { contentWords, wordsOf } from './query-words.ts';

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

/**
 * The smallest piece of a passage an answer quotes: a sentence, a list item, a table row, or a whole list or
 * table. `words` are what it is matched on: a list item also on the sentence introducing its list ("We accept:"),
 * a whole table on its header and a whole list on its introduction.
 */
interface Unit {
  hit: number;
  block: number;
  order: number;
  kind: 'sentence' | 'item' | 'row' | 'code' | 'list' | 'table';
  text: string;
  words: string[];
  /** What the unit brings along: an item its introduction; a whole list or table its items or rows. */
  parts: Unit[];
}

interface Scored {
  unit: Unit;
  score: number;
}

/** Passages within this much of the best one's score are as likely to hold the answer. */
const CLOSE_SCORE = 0.1;
const MAX_PASSAGES = 3;
/** A unit joins the best one when it scores at least this share of the best one's score. */
const RELATIVE_SCORE = 0.6;
/**
 * A list or table matched on its header or introduction ("what are your hours?" and a table with an Hours
 * column) is an enumeration of exactly what was asked, worth more than a sentence mentioning the word.
 */
const ENUMERATION_WEIGHT = 2;

const LIST_ITEM = /^(?:-|\d{1,3}[.)])\s+/;
const TABLE_RULE = /^\|[\s:|-]+\|?$/;

/** WhatsApp shows `*bold*`; Markdown links, code spans and `**bold**` would show as punctuation. */
function plain(text: string): string {
  return text
    .replace(/(\*\*|__)(.+?)\1/g, '*$2*')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '$1 ($2)')
    .replace(/`([^`]*)`/g, '$1')
    .trim();
}

const cellsOf = (row: string): string[] =>
  row
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => plain(cell));

const isBlank = (cell: string): boolean => cell === '' || cell === '–' || cell === '-';

/** "Cappuccino: $4.20"; with more columns, the others named by their header. */
function renderRow(cells: string[], header: string[]): string {
  const [first = '', ...rest] = cells;
  if (rest.length === 1) return isBlank(rest[0]!) ? first : `${first}: ${rest[0]}`;
  const named = rest.flatMap((cell, i) => (isBlank(cell) ? [] : [`${header[i + 1] ?? ''}: ${cell}`]));
  return named.length > 0 ? `${first} — ${named.join('; ')}` : first;
}

const sentencesOf = (line: string): string[] =>
  line.split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}¿¡"“(*])/u).filter((sentence) => sentence.trim() !== '');

/** A passage's text (as the chunker writes it) cut into units. */
function unitsOf(hit: number, text: string): Unit[] {
  const units: Unit[] = [];
  const add = (block: number, kind: Unit['kind'], unitText: string, words: string[], parts: Unit[] = []) => {
    const unit: Unit = { hit, block, order: units.length, kind, text: unitText, words, parts };
    units.push(unit);
    return unit;
  };
  let introduction: Unit | null = null;
  text.split(/\n\s*\n/).forEach((raw, block) => {
    const lines = raw.split('\n').map((line) => line.trim());
    const first = lines[0] ?? '';
    const leadIn: Unit | null = introduction;
    introduction = null;
    if (first.startsWith('```')) {
      add(block, 'code', raw.trim(), wordsOf(raw));
    } else if (first.startsWith('|')) {
      const hasHeader = lines.length > 2 && TABLE_RULE.test(lines[1]!);
      const header = hasHeader ? cellsOf(first) : [];
      const rows = (hasHeader ? lines.slice(2) : lines).map((line) => {
        const cells = cellsOf(line);
        return add(block, 'row', renderRow(cells, header), wordsOf(cells.join(' ')));
      });
      if (hasHeader) add(block, 'table', '', wordsOf(header.join(' ')), rows);
    } else if (LIST_ITEM.test(first)) {
      const introWords = leadIn?.words ?? [];
      const items = lines.map((line) => {
        const item = plain(line.replace(LIST_ITEM, ''));
        return add(block, 'item', item, [...wordsOf(item), ...introWords], leadIn ? [leadIn] : []);
      });
      if (leadIn) {
        add(block, 'list', '', leadIn.words, [leadIn, ...items]);
        // "We accept:" alone answers nothing: it is matched through its list and items instead.
        leadIn.words = [];
      }
    } else {
      for (const line of lines) {
        for (const sentence of sentencesOf(line)) {
          const unitText = plain(sentence);
          introduction = add(block, 'sentence', unitText, wordsOf(unitText));
        }
      }
      if (introduction !== null && !(introduction as Unit).text.endsWith(':')) introduction = null;
    }
  });
  return units;
}

/**
 * Whether two words are forms of one another ("hours" and "hour", "envío" and "envíos", "open" and "opening"):
 * the knowledge base's stemmer is in Postgres, so this is a rough stand-in. Short words must match exactly
 * (or as plurals), longer ones share most of the shorter word as a prefix.
 */
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.length <= 3) return long === `${short}s` || long === `${short}es`;
  let common = 0;
  while (common < short.length && short[common] === long[common]) common++;
  return common >= 4 && common >= Math.ceil(short.length * 0.6);
}

const matches = (query: string, words: string[]): boolean => words.some((word) => sameWord(query, word));

/**
 * How much a passage's heading reads like the question, 0..1, on all the question's words: FAQ-style headings
 * ("When will I get my money back?") match the way a question is asked, not just its subject.
 */
function headingAffinity(question: string[], heading: string | null): number {
  const words = wordsOf(heading?.split(HEADING_SEPARATOR).at(-1) ?? '').filter((word) => word.length > 1);
  if (words.length === 0) return 0;
  return words.filter((word) => matches(word, question)).length / words.length;
}

function scoreUnits(question: string, hits: KnowledgeHit[], units: Unit[]): Scored[] {
  const subject = [...new Set(contentWords(question))];
  // Words that many units share ("coffee" in a café) say less about which unit answers.
  const weights = subject.map((word) => {
    const holders = units.filter((unit) => matches(word, unit.words)).length;
    return Math.log(1 + units.length / (1 + holders));
  });
  const asked = wordsOf(question);
  const affinity = hits.map((hit) => 1 + headingAffinity(asked, hit.heading));
  const matchScore = (unit: Unit) =>
    subject.reduce((sum, word, i) => (matches(word, unit.words) ? sum + weights[i]! : sum), 0);
  const scores = new Map(units.map((unit) => [unit, matchScore(unit)]));
  return units.map((unit) => {
    let score = scores.get(unit)!;
    if (unit.kind === 'list' || unit.kind === 'table') {
      // A whole list or table only when none of its own items or rows answers more precisely.
      const members = unit.parts.filter((part) => part.kind === 'item' || part.kind === 'row');
      const ownMatch = members.some((member) => scores.get(member)! > score);
      score = ownMatch ? 0 : ENUMERATION_WEIGHT * score;
    }
    return { unit, score: score * hits[unit.hit]!.score * affinity[unit.hit]! };
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

/** Sentences of a paragraph on one line; list items, rows and tables on their own lines. */
function renderUnits(units: Unit[]): string {
  const lines: string[] = [];
  let previous: Unit | null = null;
  for (const unit of units) {
    const sameParagraph =
      previous?.kind === 'sentence' && unit.kind === 'sentence' && previous.block === unit.block;
    if (sameParagraph) lines[lines.length - 1] += ` ${unit.text}`;
    else if (unit.kind === 'item' && (previous?.kind === 'item' || previous?.text.endsWith(':'))) {
      lines.push(`- ${unit.text}`);
    } else lines.push(unit.text);
    previous = unit;
  }
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
  const chosen = selectUnits(scoreUnits(question, passages, units), maxUnits, maxChars);
  const used = [...new Set(chosen.map((unit) => unit.hit))].sort((a, b) => a - b);
  const parts = used.map((hit) => {
    const text = renderUnits(chosen.filter((unit) => unit.hit === hit).sort((a, b) => a.order - b.order));
    const heading = used.length > 1 ? label(passages[hit]!.heading) : null;
    return heading ? `${heading}\n${text}` : text;
  });
  return { text: truncate(parts.join('\n\n'), maxChars), chunks: used.map((hit) => passages[hit]!.id) };
}
