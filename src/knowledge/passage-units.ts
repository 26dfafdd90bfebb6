import { wordsOf } from './query-words.ts';
import { remembered } from './remembered.ts';

/**
 * The smallest piece of a passage an answer quotes: a sentence, a list item, a table row, or a whole list or
 * table. `words` are what it is matched on: a list item also on the sentence introducing its list ("We accept:"),
 * a whole table on its header and a whole list on its introduction.
 */
export interface Unit {
  hit: number;
  block: number;
  order: number;
  kind: 'sentence' | 'item' | 'row' | 'code' | 'list' | 'table';
  text: string;
  words: string[];
  /** The words of the unit itself, without those of its introduction. */
  ownWords: string[];
  /** What the unit brings along: an item its introduction; a whole list or table its items or rows. */
  parts: Unit[];
}

const LIST_ITEM = /^(?:-|\d{1,3}[.)])\s+/;
const TABLE_RULE = /^\|[\s:|-]+\|?$/;

/** WhatsApp shows `*bold*`; Markdown links, code spans and `**bold**` would show as punctuation. */
export function plain(text: string): string {
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

/**
 * A passage's text (as the chunker writes it) cut into units; `hit` says which passage they belong to. The
 * same passages answer question after question: each is cut once, and its units are shared (frozen).
 */
export const unitsOf: (hit: number, text: string) => readonly Unit[] = remembered(
  5_000,
  (hit: number, text: string) => Object.freeze(cutIntoUnits(hit, text).map((unit) => Object.freeze(unit))),
  (hit, text) => `${hit}\u0000${text}`,
);

function cutIntoUnits(hit: number, text: string): Unit[] {
  const units: Unit[] = [];
  const add = (block: number, kind: Unit['kind'], unitText: string, words: string[], parts: Unit[] = []) => {
    const unit: Unit = {
      hit,
      block,
      order: units.length,
      kind,
      text: unitText,
      words,
      ownWords: words,
      parts,
    };
    units.push(unit);
    return unit;
  };
  // The sentence ending in ":" that closed the previous block, if any: it introduces a list that follows.
  let introduction: Unit | undefined;
  for (const [block, raw] of text.split(/\n\s*\n/).entries()) {
    const lines = raw.split('\n').map((line) => line.trim());
    const first = lines[0] ?? '';
    const leadIn = introduction;
    introduction = undefined;
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
        const unit = add(block, 'item', item, [...wordsOf(item), ...introWords], leadIn ? [leadIn] : []);
        unit.ownWords = wordsOf(item);
        return unit;
      });
      if (leadIn) {
        add(block, 'list', '', leadIn.words, [leadIn, ...items]);
        // "We accept:" alone answers nothing: it is matched through its list and items instead.
        leadIn.words = [];
      }
    } else {
      const sentences = lines
        .flatMap(sentencesOf)
        .map((sentence) => plain(sentence))
        .map((sentence) => add(block, 'sentence', sentence, wordsOf(sentence)));
      const last = sentences.at(-1);
      if (last?.text.endsWith(':')) introduction = last;
    }
  }
  return units;
}
