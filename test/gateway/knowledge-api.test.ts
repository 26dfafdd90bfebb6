import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/app.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { testConfig } from '../support/test-config.ts';

const ADMIN = 'admin-token-0123456789abcdef';

describe('knowledge documents API', () => {
  let database: TestDatabase;
  let engine: Engine;

  beforeAll(async () => {
    database = await createTestDatabase();
    engine = await createEngine({
      config: testConfig(),
      env: readEnvironment({ BOTRELIC_ADMIN_TOKEN: ADMIN }),
      logger: createLogger({ level: 'silent' }),
      database: { db: database.db, dialect: database.kind, close: database.close },
      transport: createInProcessTransport(),
    });
  });

  afterAll(async () => {
    await engine?.stop();
    await database?.close();
  });

  const put = (workspace: string, document: string, body: unknown, token = ADMIN) =>
    engine.app.inject({
      method: 'PUT',
      url: `/api/workspaces/${workspace}/knowledge/${document}`,
      headers: { authorization: `Bearer ${token}` },
      payload: body as object,
    });

  const REFUNDS = '# Refunds\n\nRefunds reach your card within 5 business days of us receiving the parcel.';

  it('stores and indexes a document, and the AI agent finds it', async () => {
    const response = await put('acme', 'refunds', { content: REFUNDS });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ documentId: 'refunds', indexed: true });
    const hits = await engine.knowledge.search('acme', 'how long do refunds take?');
    expect(hits[0]).toMatchObject({ documentId: 'refunds', title: 'Refunds' });
    // Another workspace never sees it.
    expect(await engine.knowledge.search('globex', 'how long do refunds take?')).toEqual([]);
  });

  it('does not re-index an unchanged document, and re-indexes a changed one', async () => {
    expect((await put('acme', 'refunds', { content: REFUNDS })).json()).toEqual({
      documentId: 'refunds',
      indexed: false,
    });
    const changed = REFUNDS.replace('5 business days', '3 business days');
    expect((await put('acme', 'refunds', { content: changed })).json()).toEqual({
      documentId: 'refunds',
      indexed: true,
    });
    const [hit] = await engine.knowledge.search('acme', 'refund business days');
    expect(hit!.text).toContain('3 business days');
  });

  it('deletes a document: 204, then 404', async () => {
    const remove = () =>
      engine.app.inject({
        method: 'DELETE',
        url: '/api/workspaces/acme/knowledge/refunds',
        headers: { authorization: `Bearer ${ADMIN}` },
      });
    expect((await remove()).statusCode).toBe(204);
    expect(await engine.knowledge.search('acme', 'how long do refunds take?')).toEqual([]);
    expect((await remove()).statusCode).toBe(404);
  });

  it('answers 409 to a change of a document from a knowledge folder, and changes nothing', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'botrelic-kb-'));
    try {
      await writeFile(join(folder, 'hours.md'), '# Hours\n\nWe open at 8:00 on weekdays.');
      await engine.knowledge.ingestFolders('acme', [folder], 'english');
      const remove = await engine.app.inject({
        method: 'DELETE',
        url: '/api/workspaces/acme/knowledge/hours.md',
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      const replace = await put('acme', 'hours.md', { content: '# Hours\n\nWe never open.' });
      for (const response of [remove, replace]) {
        expect(response.statusCode).toBe(409);
        expect(response.json()).toEqual({
          error: 'folder_document',
          message: expect.stringMatching(
            /^document hours\.md comes from the knowledge folder file file:\/\/.*\/hours\.md: edit or delete the file instead/,
          ),
        });
      }
      const [hit] = await engine.knowledge.search('acme', 'open weekdays');
      expect(hit).toMatchObject({ documentId: 'hours.md', text: 'We open at 8:00 on weekdays.' });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('refuses without the admin token, with an agent token, for an unknown workspace, and bad input', async () => {
    expect((await put('acme', 'x', { content: 'hello' }, 'wrong-token-wrong-token')).statusCode).toBe(401);
    expect((await put('acme', 'x', { content: 'hello' }, 'alice-token-0123456789')).statusCode).toBe(401);
    expect((await put('nowhere', 'x', { content: 'hello' })).statusCode).toBe(404);
    const empty = await put('acme', 'x', { content: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ error: 'invalid_request' });
    expect((await put('acme', '..%2Fetc', { content: 'hi' })).statusCode).toBe(400);
    // Nothing of the refused requests was stored.
    expect(await engine.knowledge.search('acme', 'hello')).toEqual([]);
  });
});
