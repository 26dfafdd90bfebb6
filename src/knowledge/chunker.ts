import { basename, extname } from 'node:path';

/** A passage of a document: the unit the knowledge base indexes and an answer quotes. */
export interface Passage {
  position: number;
  /** The headings the passage sits under, below the document title: "Returns › Refund times". */
  heading: string | null;
  /**
   * The passage's Markdown, tidied: paragraphs on one line each, list items and table rows on a line of their
   * own, blocks separated by a blank line.
   */
  text: string;
}

export interface ChunkedDocument {
  /** The first `#` heading (or the front matter's `title:`), else the file name made readable. */
  title: string;
  passages: Passage[];
}

export interface ChunkOptions {
  /** The document's file name or id: gives the title when the document has no `#` heading. */
  fileName: string;
  /** Plain text has no headings, lists or tables: only paragraphs. Default: by the file extension. */
  format?: 'markdown' | 'text';
  /** A long section is cut into passages of at most this many words... */
  maxWords?: number;
  /** ...and none of them shorter than this. A section shorter than it is a passage of its own. */
  minWords?: number;
}

export const HEADING_SEPARATOR = ' › ';

type BlockKind = 'paragraph' | 'list' | 'table' | 'code';

interface Block {
  kind: BlockKind;
  lines: string[];
}

interface Section {
  path: string[];
  blocks: Block[];
}

const ATX_HEADING = /^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const LIST_ITEM = /^\s*([-*+]|\d{1,3}[.)])\s+(.*)$/;
const FENCE = /^\s*(```|~~~)/;
const THEMATIC_BREAK = /^\s*([-*_])(\s*\1){2,}\s*$/;

const wordCount = (text: string): number => text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
const blockWords = (block: Block): number => wordCount(block.lines.join(' '));
const blockText = (block: Block): string => block.lines.join('\n');

function titleFromFileName(fileName: string): string {
  const stem = basename(fileName, extname(fileName)).replace(/[-_]+/g, ' ').trim();
  return stem === '' ? fileName : stem.charAt(0).toUpperCase() + stem.slice(1);
}

/** Front matter (`---` ... `---` at the very top) is metadata, not text; its `title:` names the document. */
function splitFrontMatter(content: string): { title: string | null; body: string } {
  const match = /^---\n([\s\S]*?)\n---[ \t]*(?:\n|$)/.exec(content);
  if (!match) return { title: null, body: content };
  const title = /^title:\s*["']?(.*?)["']?\s*$/m.exec(match[1]!)?.[1] ?? null;
  return { title: title || null, body: content.slice(match[0].length) };
}

/** Collects blocks into sections as the parser walks the lines. */
class SectionBuilder {
  readonly sections: Section[] = [];
  private section: Section = { path: [], blocks: [] };
  private block: Block | null = null;

  /** The line continues the open block of this kind, or opens one. */
  add(kind: BlockKind, line: string): void {
    if (this.block?.kind !== kind) {
      this.close();
      this.block = { kind, lines: [] };
    }
    this.block.lines.push(line);
  }

  /** Text without a marker: a wrapped list item goes on, otherwise the paragraph does. */
  continueText(text: string): void {
    const open = this.block;
    if (open?.kind === 'list' || open?.kind === 'paragraph') {
      open.lines[open.lines.length - 1] = `${open.lines.at(-1)} ${text}`;
    } else {
      this.add('paragraph', text);
    }
  }

  close(): void {
    if (this.block) this.section.blocks.push(this.block);
    this.block = null;
  }

  startSection(path: string[]): void {
    this.close();
    this.sections.push(this.section);
    this.section = { path, blocks: [] };
  }

  finish(): Section[] {
    this.startSection([]);
    return this.sections;
  }
}

/** Markdown as sections of blocks, each section under its heading path. */
function parseMarkdown(content: string): { title: string | null; sections: Section[] } {
  const front = splitFrontMatter(content);
  let title = front.title;
  const builder = new SectionBuilder();
  const headings: { level: number; text: string }[] = [];
  let fence: string | null = null;

  for (const rawLine of front.body.split('\n')) {
    const line = rawLine.trimEnd();
    const trimmed = line.trim();
    if (fence !== null) {
      // Blank lines separate blocks in a passage's text, so a code block keeps none of its own.
      if (trimmed !== '') builder.add('code', line);
      if (trimmed.startsWith(fence)) {
        fence = null;
        builder.close();
      }
      continue;
    }
    const fenceMatch = FENCE.exec(line);
    if (fenceMatch) {
      builder.close();
      fence = fenceMatch[1]!;
      builder.add('code', trimmed);
      continue;
    }
    const heading = ATX_HEADING.exec(line);
    if (heading) {
      const level = heading[1]!.length;
      const text = heading[2]!.trim();
      // The first top-level heading is the document's title, not a section of it.
      if (level === 1 && title === null && headings.length === 0) {
        title = text;
        continue;
      }
      while (headings.length > 0 && headings.at(-1)!.level >= level) headings.pop();
      headings.push({ level, text });
      builder.startSection(headings.map((h) => h.text));
      continue;
    }
    if (trimmed === '' || THEMATIC_BREAK.test(line)) {
      builder.close();
      continue;
    }
    if (trimmed.startsWith('|')) {
      builder.add('table', trimmed);
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const marker = /\d/.test(item[1]!) ? item[1]! : '-';
      builder.add('list', `${marker} ${item[2]!.trim()}`);
      continue;
    }
    builder.continueText(trimmed.replace(/^>\s?/, ''));
  }
  return { title, sections: builder.finish() };
}

function parseText(content: string): Section[] {
  const blocks = content
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph !== '')
    .map((paragraph): Block => ({ kind: 'paragraph', lines: paragraph.split('\n').map((l) => l.trim()) }));
  return [{ path: [], blocks }];
}

/** Cuts `units` into consecutive groups of at most `max` words, as even as the units allow. */
function packUnits<T>(units: T[], words: (unit: T) => number, max: number, min: number): T[][] {
  const total = units.reduce((sum, unit) => sum + words(unit), 0);
  const target = Math.max(min, Math.ceil(total / Math.ceil(total / max)));
  const groups: T[][] = [];
  let group: T[] = [];
  let count = 0;
  for (const unit of units) {
    const size = words(unit);
    if (group.length > 0 && (count + size > max || count >= target)) {
      groups.push(group);
      group = [];
      count = 0;
    }
    group.push(unit);
    count += size;
  }
  if (group.length > 0) groups.push(group);
  // A short tail joins the group before it when both fit together.
  const tail = groups.at(-1);
  const before = groups.at(-2);
  if (tail && before) {
    const tailWords = tail.reduce((sum, unit) => sum + words(unit), 0);
    const beforeWords = before.reduce((sum, unit) => sum + words(unit), 0);
    if (tailWords < min && tailWords + beforeWords <= max) {
      groups.pop();
      before.push(...tail);
    }
  }
  return groups;
}

const sentencesOf = (paragraph: string): string[] =>
  paragraph.split(/(?<=[.!?])\s+(?=[\p{Lu}\p{N}¿¡"“(])/u).filter((sentence) => sentence !== '');

/** A block longer than a passage, cut into blocks that fit: tables keep their header in every part. */
function splitBlock(block: Block, max: number, min: number): Block[] {
  if (blockWords(block) <= max) return [block];
  if (block.kind === 'paragraph' && block.lines.length === 1) {
    return packUnits(sentencesOf(block.lines[0]!), wordCount, max, min).map((sentences) => ({
      kind: 'paragraph',
      lines: [sentences.join(' ')],
    }));
  }
  const isTable = block.kind === 'table' && block.lines.length > 2 && /^\|[\s:|-]+\|?$/.test(block.lines[1]!);
  const header = isTable ? block.lines.slice(0, 2) : [];
  const body = block.lines.slice(header.length);
  return packUnits(body, wordCount, max - wordCount(header.join(' ')), min).map((lines) => ({
    kind: block.kind,
    lines: [...header, ...lines],
  }));
}

/**
 * Splits a Markdown or plain-text document along its headings and paragraphs into passages of bounded size,
 * each with the heading path it sits under. A section that fits in `maxWords` stays whole; a longer one is cut
 * between blocks (paragraphs, lists, tables), and a block longer than a passage between sentences or rows.
 */
export function chunkDocument(content: string, options: ChunkOptions): ChunkedDocument {
  const maxWords = options.maxWords ?? 250;
  const minWords = Math.min(options.minWords ?? 80, maxWords);
  const normalized = content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const format = options.format ?? (extname(options.fileName).toLowerCase() === '.txt' ? 'text' : 'markdown');
  const parsed =
    format === 'markdown' ? parseMarkdown(normalized) : { title: null, sections: parseText(normalized) };

  const passages: Passage[] = [];
  for (const section of parsed.sections) {
    const blocks = section.blocks.flatMap((block) => splitBlock(block, maxWords, minWords));
    if (blocks.length === 0) continue;
    const heading = section.path.length > 0 ? section.path.join(HEADING_SEPARATOR) : null;
    for (const group of packUnits(blocks, blockWords, maxWords, minWords)) {
      passages.push({ position: passages.length, heading, text: group.map(blockText).join('\n\n') });
    }
  }
  return { title: parsed.title ?? titleFromFileName(options.fileName), passages };
}
