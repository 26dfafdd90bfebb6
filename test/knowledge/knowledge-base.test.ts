import { cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKnowledgeBase,
  FolderDocumentError,
  type IngestProgress,
  type KnowledgeBase,
} from '../../src/knowledge/knowledge-base.ts';
import { searchQuery } from '../../src/knowledge/query-words.ts';
import { createPgliteTestDatabase, createTestDatabase, type TestDatabase } from '../support/database.ts';

const DEMO = join(import.meta.dirname, '../../kb/demo');
const documentOf = (id: string) => id.slice(0, id.lastIndexOf('#'));

const SPANISH_DOC = `# Envíos

## Precios de envío

El envío estándar a la Península cuesta 4,95 € y tarda de 2 a 3 días laborables. Los envíos a Baleares
tardan de 3 a 5 días.

## Devoluciones

Tienes 30 días para devolver tu móvil. Te reembolsamos el dinero en 5 días laborables.
`;

describe.each([
  ['the test database (Postgres when one runs)', createTestDatabase],
  ['PGlite', createPgliteTestDatabase],
])('knowledge base on %s', (_, createDatabase) => {
  let database: TestDatabase;
  let kb: KnowledgeBase;
  let folder: string;
  const progress: IngestProgress[] = [];

  beforeAll(async () => {
    database = await createDatabase();
    await database.db
      .insertInto('workspaces')
      .values(['acme', 'globex', 'tienda', 'scratch'].map((id) => ({ id, name: id })))
      .execute();
    kb = createKnowledgeBase(database.db);
    folder = await mkdtemp(join(tmpdir(), 'botrelic-kb-'));
    await cp(DEMO, folder, { recursive: true });
    const result = await kb.ingestFolders('acme', [folder], 'english', (p) => progress.push(p));
    expect(result.indexed).toHaveLength(7);
  });

  afterAll(async () => {
    await database?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('reports its progress document by document', () => {
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(progress.every((p) => p.total === 7)).toBe(true);
    expect(progress.map((p) => p.document)).toContain('opening-hours-and-locations.md');
  });

  it.each([
    ['What are your opening hours?', 'opening-hours-and-locations.md'],
    ['Is there parking near the café?', 'opening-hours-and-locations.md'],
    ['How much is a cappuccino?', 'menu-and-products.md'],
    ['Do you have vegan food?', 'menu-and-products.md'],
    ['Do you ship internationally?', 'shipping-and-delivery.md'],
    ['How can I track my order?', 'shipping-and-delivery.md'],
    ['When will I get my refund?', 'returns-and-refunds.md'],
    ['Can I return an opened bag of coffee?', 'returns-and-refunds.md'],
    ['Do you accept PayPal?', 'payment-methods.md'],
    ['How many points do I need for a free drink?', 'loyalty-programme.md'],
    ['Are you hiring baristas?', 'contact.md'],
    ['wifi password', 'opening-hours-and-locations.md'],
  ])('finds the answer to %j in %s', async (question, document) => {
    const hits = await kb.search('acme', searchQuery(question), { limit: 3 });
    expect(documentOf(hits[0]!.id)).toBe(document);
    expect(hits[0]!.documentId).toBe(document);
    // Above the default confidence threshold: the offline agent answers with this passage.
    expect(hits[0]!.score).toBeGreaterThan(0.55);
  });

  it('scores in 0..1, best first, with chunk ids that name their document and position', async () => {
    const hits = await kb.search('acme', 'coffee', { limit: 10 });
    expect(hits).toHaveLength(10);
    for (const hit of hits) {
      expect(hit.score).toBeGreaterThan(0);
      expect(hit.score).toBeLessThanOrEqual(1);
      expect(hit.id).toMatch(/^[a-z-]+\.md#\d+$/);
      expect(hit.text).not.toBe('');
    }
    expect(hits.map((hit) => hit.score)).toEqual([...hits.map((hit) => hit.score)].sort((a, b) => b - a));
    expect(await kb.search('acme', 'coffee', { limit: 2 })).toHaveLength(2);
  });

  it('scores a passage holding all of a question above one holding part of it, whatever the question', async () => {
    const [full] = await kb.search('acme', 'parking');
    const [alsoFull] = await kb.search('acme', 'vegan food');
    const [partial] = await kb.search('acme', 'parking helicopter');
    expect(full!.score).toBeGreaterThan(0.8);
    expect(alsoFull!.score).toBeGreaterThan(0.8);
    expect(partial!.score).toBeLessThan(0.55);
    expect(await kb.search('acme', 'helicopter')).toEqual([]);
  });

  it('treats alternatives as one term', async () => {
    const [alternatives] = await kb.search('acme', 'espresso cost|price|fee');
    const [missing] = await kb.search('acme', 'espresso fee');
    expect(alternatives!.score).toBeGreaterThan(0.8);
    expect(missing!.score).toBeLessThan(alternatives!.score);
  });

  it.each([
    '',
    '   ',
    'the of and is',
    '🙂🙂',
    '¿?',
    "'; drop table knowledge_chunks; --",
    "a & b | !c <-> d:* 'quote' \\ back",
    '((((',
    '|||',
    'nul\u0000byte',
    'x'.repeat(20_000),
    'word '.repeat(5_000),
  ])('answers %j without an error', async (query) => {
    const hits = await kb.search('acme', query);
    expect(Array.isArray(hits)).toBe(true);
    expect(await kb.search('acme', 'parking')).not.toEqual([]);
  });

  it('never returns another workspace’s passages', async () => {
    await kb.upsertDocument('globex', 'opening-hours-and-locations.md', {
      content:
        '# Opening hours\n\nGlobex is open around the clock, parking included, zeppelin landing on the roof.',
      source: 'api',
      language: 'english',
    });
    const acme = await kb.search('acme', 'opening hours parking zeppelin', { limit: 50 });
    expect(acme.length).toBeGreaterThan(0);
    expect(acme.some((hit) => hit.text.includes('Globex'))).toBe(false);
    expect(await kb.search('acme', 'zeppelin')).toEqual([]);
    const globex = await kb.search('globex', 'opening hours parking', { limit: 50 });
    expect(globex.map((hit) => hit.id)).toEqual(['opening-hours-and-locations.md#0']);
    expect(await kb.search('nobody', 'parking')).toEqual([]);
  });

  it('re-indexes a document only when it changed', async () => {
    const input = { content: '# Tips\n\nAll tips go to the team.', source: 'api', language: 'english' };
    expect(await kb.upsertDocument('scratch', 'tips.md', input)).toEqual({ indexed: true });
    expect(await kb.upsertDocument('scratch', 'tips.md', input)).toEqual({ indexed: false });
    expect(await kb.upsertDocument('scratch', 'tips.md', { ...input, title: 'Gratuities' })).toEqual({
      indexed: true,
    });
    const [renamed] = await kb.search('scratch', 'gratuities');
    expect(renamed!.title).toBe('Gratuities');

    await kb.upsertDocument('scratch', 'tips.md', {
      ...input,
      content: '# Tips\n\nTips are shared by lottery.',
    });
    expect(await kb.search('scratch', 'team')).toEqual([]);
    const [changed] = await kb.search('scratch', 'lottery');
    expect(changed).toMatchObject({ id: 'tips.md#0', title: 'Tips', heading: null });
  });

  it('deletes a document and its passages', async () => {
    await kb.upsertDocument('scratch', 'gone.md', {
      content: 'Quokkas are friendly.',
      source: 'api',
      language: 'english',
    });
    expect(await kb.search('scratch', 'quokka')).toHaveLength(1);
    expect(await kb.deleteDocument('scratch', 'gone.md')).toBe(true);
    expect(await kb.search('scratch', 'quokka')).toEqual([]);
    expect(await kb.deleteDocument('scratch', 'gone.md')).toBe(false);
    const chunks = await database.db
      .selectFrom('knowledge_chunks')
      .select('id')
      .where('workspace_id', '=', 'scratch')
      .where('document_id', '=', 'gone.md')
      .execute();
    expect(chunks).toEqual([]);
  });

  it('follows the folder on the next ingest: changed files re-indexed, removed ones deleted, API documents kept', async () => {
    await kb.upsertDocument('acme', 'from-the-api.md', {
      content: 'Okapis visit on Mondays.',
      source: 'api',
      language: 'english',
    });
    await writeFile(join(folder, 'contact.md'), '# Contact\n\nWrite to us by carrier pigeon.');
    await unlink(join(folder, 'loyalty-programme.md'));
    await writeFile(join(folder, 'notes.txt'), 'Plain text notes about marmalade.');

    const result = await kb.ingestFolders('acme', [folder], 'english');
    expect(result.indexed.sort()).toEqual(['contact.md', 'notes.txt']);
    expect(result.deleted).toEqual(['loyalty-programme.md']);
    expect(result.unchanged).toHaveLength(5);
    expect(await kb.search('acme', 'pigeon')).toHaveLength(1);
    expect(await kb.search('acme', 'marmalade')).toHaveLength(1);
    expect(await kb.search('acme', 'Harbour Club points')).not.toContainEqual(
      expect.objectContaining({ documentId: 'loyalty-programme.md' }),
    );
    expect(await kb.search('acme', 'okapi')).toHaveLength(1);
  });

  it("keeps a folder document its file's: another source may neither replace nor delete it", async () => {
    const before = await kb.search('acme', 'paypal');
    const [file] = before.filter((hit) => hit.documentId === 'payment-methods.md');
    expect(file).toBeDefined();
    const replace = kb.upsertDocument('acme', 'payment-methods.md', {
      content: 'Wombats pay with acorns.',
      source: 'api',
      language: 'english',
    });
    await expect(replace).rejects.toBeInstanceOf(FolderDocumentError);
    await expect(replace).rejects.toThrow(
      /comes from the knowledge folder file file:\/\/.*payment-methods\.md/,
    );
    await expect(kb.deleteDocument('acme', 'payment-methods.md')).rejects.toBeInstanceOf(FolderDocumentError);
    // Nothing changed: same passages, same search.
    expect(await kb.search('acme', 'paypal')).toEqual(before);
    expect(await kb.search('acme', 'wombats acorns')).toEqual([]);
  });

  it('lets a file take the id of a document stored over the API, and says so', async () => {
    await kb.upsertDocument('acme', 'specials.md', {
      content: 'Tapirs are on the menu.',
      source: 'api',
      language: 'english',
    });
    await writeFile(join(folder, 'specials.md'), '# Specials\n\nToday: cardamom buns.');
    const result = await kb.ingestFolders('acme', [folder], 'english');
    expect(result.replaced).toEqual(['specials.md']);
    expect(result.indexed).toContain('specials.md');
    expect(await kb.search('acme', 'cardamom')).toHaveLength(1);
    expect(await kb.search('acme', 'tapir')).toEqual([]);
    // From now on it is the folder's.
    await expect(kb.deleteDocument('acme', 'specials.md')).rejects.toBeInstanceOf(FolderDocumentError);
    await unlink(join(folder, 'specials.md'));
    expect((await kb.ingestFolders('acme', [folder], 'english')).deleted).toEqual(['specials.md']);
  });

  it('stems and folds Spanish with the spanish configuration', async () => {
    await kb.upsertDocument('tienda', 'envios.md', {
      content: SPANISH_DOC,
      source: 'api',
      language: 'spanish',
    });
    for (const question of [
      '¿Cuánto cuesta el envío?',
      'cuanto cuesta el envio',
      '¿Cuánto tardan los envíos a Baleares?',
      '¿Cuánto tardáis en enviar a Baleares?',
    ]) {
      const [hit] = await kb.search('tienda', searchQuery(question));
      expect(hit, question).toMatchObject({ id: 'envios.md#0', heading: 'Precios de envío' });
      expect(hit!.score, question).toBeGreaterThan(0.7);
    }
    const [refund] = await kb.search('tienda', searchQuery('¿Cuándo me devolvéis el dinero?'));
    expect(refund!.heading).toBe('Devoluciones');
    // Spanish stop words are no terms.
    expect(await kb.search('tienda', 'de la el')).toEqual([]);
  });

  it('refuses a text search configuration Postgres does not have', async () => {
    await expect(
      kb.upsertDocument('scratch', 'klingon.md', { content: 'Qapla’', source: 'api', language: 'klingon' }),
    ).rejects.toThrow(/klingon/);
    expect(await kb.search('scratch', 'qapla')).toEqual([]);
  });

  it('refuses two folders holding the same document id', async () => {
    const other = await mkdtemp(join(tmpdir(), 'botrelic-kb-'));
    try {
      await writeFile(join(other, 'contact.md'), 'A second contact page.');
      await expect(kb.ingestFolders('acme', [folder, other], 'english')).rejects.toThrow(/contact\.md/);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
