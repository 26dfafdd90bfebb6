import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkDocument } from '../../src/knowledge/chunker.ts';

const words = (text: string): number => text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
const sentence = (i: number) => `Sentence number ${i} says something useful about the topic at hand.`;

describe('chunkDocument', () => {
  it('takes the title from the first top-level heading and keeps it out of the heading paths', () => {
    const doc = chunkDocument('# Returns and refunds\n\nIntro text.\n\n## Refund times\n\nFive days.', {
      fileName: 'returns.md',
    });
    expect(doc.title).toBe('Returns and refunds');
    expect(doc.passages).toEqual([
      { position: 0, heading: null, text: 'Intro text.' },
      { position: 1, heading: 'Refund times', text: 'Five days.' },
    ]);
  });

  it.each([
    ['opening-hours_and-more.md', 'Opening hours and more'],
    ['faq.txt', 'Faq'],
    ['nested/dir/shipping.md', 'Shipping'],
  ])('without a heading, titles %s as %j', (fileName, title) => {
    expect(chunkDocument('Just text.', { fileName }).title).toBe(title);
  });

  it("prefers the front matter's title and does not index the front matter", () => {
    const doc = chunkDocument('---\ntitle: "Delivery FAQ"\nslug: delivery\n---\n\n# Shipping\n\nWe ship.', {
      fileName: 'delivery.md',
    });
    expect(doc.title).toBe('Delivery FAQ');
    expect(doc.passages).toEqual([{ position: 0, heading: 'Shipping', text: 'We ship.' }]);
  });

  it('gives each passage its heading path, which shortens again at a higher-level heading', () => {
    const markdown = [
      '# Help',
      '## Returns',
      'About returns.',
      '### Refund times',
      'Five days.',
      '#### By card',
      'Instantly.',
      '### Exchanges',
      'Any size.',
      '## Shipping',
      'We ship.',
      '# Appendix',
      'Small print.',
    ].join('\n\n');
    const headings = chunkDocument(markdown, { fileName: 'help.md' }).passages.map((p) => [
      p.heading,
      p.text,
    ]);
    expect(headings).toEqual([
      ['Returns', 'About returns.'],
      ['Returns › Refund times', 'Five days.'],
      ['Returns › Refund times › By card', 'Instantly.'],
      ['Returns › Exchanges', 'Any size.'],
      ['Shipping', 'We ship.'],
      ['Appendix', 'Small print.'],
    ]);
  });

  it('skips headings with nothing under them but keeps them in the path of what follows', () => {
    const doc = chunkDocument('## Payments\n\n### Cards\n\nVisa.', { fileName: 'p.md' });
    expect(doc.passages).toEqual([{ position: 0, heading: 'Payments › Cards', text: 'Visa.' }]);
  });

  it('unwraps paragraphs and list items onto one line and keeps tables row by row', () => {
    const markdown = [
      'A paragraph that is',
      'wrapped over two lines.',
      '',
      '* first item',
      '  continues here',
      '+ second item',
      '1. numbered',
      '',
      '| Day | Hours |',
      '| --- | --- |',
      '| Monday | 9 – 5 |',
      '',
      '> A quote.',
    ].join('\n');
    expect(chunkDocument(markdown, { fileName: 'x.md' }).passages[0]!.text).toBe(
      [
        'A paragraph that is wrapped over two lines.',
        '',
        '- first item continues here\n- second item\n1. numbered',
        '',
        '| Day | Hours |\n| --- | --- |\n| Monday | 9 – 5 |',
        '',
        'A quote.',
      ].join('\n'),
    );
  });

  it('keeps a fenced code block whole, headings inside it included', () => {
    const markdown = '## Setup\n\n```sh\n# not a heading\n\nnpm start\n```\n\nDone.';
    expect(chunkDocument(markdown, { fileName: 'x.md' }).passages).toEqual([
      { position: 0, heading: 'Setup', text: '```sh\n# not a heading\nnpm start\n```\n\nDone.' },
    ]);
  });

  it('cuts a long section between paragraphs into passages of 80 to 250 words', () => {
    const paragraphs = Array.from({ length: 60 }, (_, i) => sentence(i));
    const doc = chunkDocument(`## Long\n\n${paragraphs.join('\n\n')}`, { fileName: 'long.md' });
    const sizes = doc.passages.map((passage) => words(passage.text));
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) {
      expect(size).toBeLessThanOrEqual(250);
      expect(size).toBeGreaterThanOrEqual(80);
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(words(paragraphs.join(' ')));
    expect(doc.passages.every((passage) => passage.heading === 'Long')).toBe(true);
    expect(doc.passages.map((passage) => passage.position)).toEqual(sizes.map((_, i) => i));
  });

  it('cuts a paragraph longer than a passage between its sentences', () => {
    const paragraph = Array.from({ length: 40 }, (_, i) => sentence(i)).join(' ');
    const doc = chunkDocument(paragraph, { fileName: 'x.md' });
    expect(doc.passages.length).toBeGreaterThan(1);
    for (const passage of doc.passages) {
      expect(words(passage.text)).toBeLessThanOrEqual(250);
      expect(passage.text).toMatch(/^Sentence number \d+ .*topic at hand\.$/);
    }
  });

  it('repeats the header of a table too long for one passage in every part', () => {
    const rows = Array.from({ length: 80 }, (_, i) => `| Product number ${i} | $${i}.00 |`);
    const doc = chunkDocument(['| Product | Price |', '| --- | --- |', ...rows].join('\n'), {
      fileName: 'x.md',
    });
    expect(doc.passages.length).toBeGreaterThan(1);
    for (const passage of doc.passages) {
      expect(passage.text.startsWith('| Product | Price |\n| --- | --- |\n| Product number')).toBe(true);
      expect(words(passage.text)).toBeLessThanOrEqual(250);
    }
    const keptRows = doc.passages.flatMap((passage) => passage.text.split('\n').slice(2));
    expect(keptRows).toEqual(rows);
  });

  it('does not leave a short tail when a section is cut', () => {
    const paragraphs = Array.from({ length: 26 }, (_, i) => sentence(i)); // 260 words: just over one passage
    const doc = chunkDocument(paragraphs.join('\n\n'), { fileName: 'x.md' });
    const sizes = doc.passages.map((passage) => words(passage.text));
    expect(sizes).toHaveLength(2);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(80);
  });

  it('reads plain text as paragraphs only', () => {
    const doc = chunkDocument('# Not a heading\n| not | a table |\n\nSecond paragraph.', {
      fileName: 'notes.txt',
    });
    expect(doc.title).toBe('Notes');
    expect(doc.passages).toEqual([
      { position: 0, heading: null, text: '# Not a heading\n| not | a table |\n\nSecond paragraph.' },
    ]);
  });

  it('handles Windows line endings, a byte order mark and empty documents', () => {
    expect(chunkDocument('\uFEFF# Title\r\n\r\nText.\r\n', { fileName: 'x.md' })).toEqual({
      title: 'Title',
      passages: [{ position: 0, heading: null, text: 'Text.' }],
    });
    expect(chunkDocument('', { fileName: 'empty.md' }).passages).toEqual([]);
    expect(chunkDocument('# Only a title\n\n## And a heading', { fileName: 'x.md' }).passages).toEqual([]);
  });

  it('chunks every demo document into bounded passages that keep all of its words', async () => {
    const folder = join(import.meta.dirname, '../../kb/demo');
    for (const file of await readdir(folder)) {
      const content = await readFile(join(folder, file), 'utf8');
      const doc = chunkDocument(content, { fileName: file });
      expect(doc.passages.length).toBeGreaterThan(2);
      const headingWords = content
        .split('\n')
        .filter((line) => line.startsWith('#'))
        .reduce((sum, line) => sum + words(line), 0);
      const passageWords = doc.passages.reduce((sum, passage) => sum + words(passage.text), 0);
      expect(passageWords).toBe(words(content) - headingWords);
      for (const passage of doc.passages) expect(words(passage.text)).toBeLessThanOrEqual(250);
    }
  });
});
