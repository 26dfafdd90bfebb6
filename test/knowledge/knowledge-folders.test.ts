import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/app.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import type { BotrelicConfig } from '../../src/config/workspace-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { testConfig } from '../support/test-config.ts';

const ADMIN = 'admin-token-0123456789abcdef';

interface LogLine {
  msg: string;
  workspaceId?: string;
  documentId?: string;
  done?: number;
  total?: number;
  indexed?: string[];
  deleted?: string[];
  documents?: string[];
}

/** Every line the engine logs, parsed. */
function capturingLogger() {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

/** The test config with acme's knowledge in `folder`. */
function configWith(folder: string): BotrelicConfig {
  const config = testConfig();
  config.workspaces[0]!.knowledge = [folder];
  return config;
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('knowledge folders while the engine runs', () => {
  let database: TestDatabase;
  let folder: string;
  let engine: Engine | undefined;
  let log: ReturnType<typeof capturingLogger>;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  afterAll(async () => {
    await database?.close();
  });

  async function start(files: Record<string, string>) {
    folder = await mkdtemp(join(tmpdir(), 'botrelic-kb-watch-'));
    for (const [name, content] of Object.entries(files)) await writeFile(join(folder, name), content);
    log = capturingLogger();
    engine = await createEngine({
      config: configWith(folder),
      env: readEnvironment({ BOTRELIC_ADMIN_TOKEN: ADMIN }),
      logger: log.logger,
      database: { db: database.db, dialect: database.kind, close: database.close },
      transport: createInProcessTransport(),
    });
    await engine.start();
    return engine;
  }

  const documentsFound = async (query: string) =>
    (await engine!.knowledge.search('acme', query, { limit: 10 })).map((hit) => hit.documentId);

  it('re-indexes a document whose file is added, changed or deleted', async () => {
    await start({ 'tips.md': '# Tips\n\nAll tips go to the team.' });
    expect(await documentsFound('tips team')).toEqual(['tips.md']);

    await writeFile(join(folder, 'tips.md'), '# Tips\n\nTips are shared by lottery.');
    await until(async () => (await documentsFound('lottery')).length === 1, 'the changed file is indexed');
    expect(await documentsFound('team')).toEqual([]);

    await mkdir(join(folder, 'faq'));
    await writeFile(join(folder, 'faq', 'parking.md'), '# Parking\n\nThe car park is behind the shop.');
    await until(async () => (await documentsFound('car park')).length === 1, 'the new file is indexed');
    expect(await documentsFound('car park')).toEqual(['faq/parking.md']);

    await unlink(join(folder, 'tips.md'));
    await until(async () => (await documentsFound('lottery')).length === 0, 'the deleted file is gone');
    // Said in the log once the sync ends, which is just after its changes are visible.
    await until(
      async () =>
        log.lines.some(
          (line) =>
            line.msg === 'knowledge folders changed: documents re-indexed' &&
            line.workspaceId === 'acme' &&
            line.deleted?.includes('tips.md') === true,
        ),
      'the sync is logged',
    );
  });

  it("keeps a folder document its file's over the API, and warns when a file takes an API document's id", async () => {
    await start({ 'tips.md': '# Tips\n\nAll tips go to the team.' });
    const change = (method: 'PUT' | 'DELETE', documentId: string, content?: string) =>
      engine!.app.inject({
        method,
        url: `/api/workspaces/acme/knowledge/${documentId}`,
        headers: { authorization: `Bearer ${ADMIN}` },
        ...(content === undefined ? {} : { payload: { content } }),
      });
    // Either change would be undone by the next sync of the folder: refused.
    expect((await change('PUT', 'tips.md', '# Tips\n\nNo tips.')).statusCode).toBe(409);
    expect((await change('DELETE', 'tips.md')).statusCode).toBe(409);
    expect(await documentsFound('tips team')).toEqual(['tips.md']);

    expect((await change('PUT', 'menu.md', '# Menu\n\nTapir stew.')).statusCode).toBe(200);
    await writeFile(join(folder, 'menu.md'), '# Menu\n\nCardamom buns.');
    await until(
      async () => (await documentsFound('cardamom')).length === 1,
      'the file replaces the document',
    );
    expect(await documentsFound('tapir')).toEqual([]);
    await until(
      async () =>
        log.lines.some(
          (line) =>
            line.msg === 'knowledge files replaced documents stored over the API under the same ids' &&
            line.documents?.includes('menu.md') === true,
        ),
      'the replacement is logged',
    );
  });

  it('stops following the folder once the engine stops', async () => {
    await start({ 'tips.md': '# Tips\n\nAll tips go to the team.' });
    await engine!.stop();
    engine = undefined;
    await writeFile(join(folder, 'late.md'), '# Late\n\nWritten after the stop.');
    await new Promise((resolve) => setTimeout(resolve, 800));
    const stored = await database.db
      .selectFrom('knowledge_documents')
      .select('document_id')
      .where('workspace_id', '=', 'acme')
      .where('document_id', '=', 'late.md')
      .execute();
    expect(stored).toEqual([]);
  });

  it('logs the progress of a big folder ingest at start', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 25 }, (_, i) => [
        `doc-${String(i).padStart(2, '0')}.md`,
        `# Doc ${i}\n\nText ${i}.`,
      ]),
    );
    await start(files);
    const progress = log.lines.filter((line) => line.msg === 'indexing knowledge');
    expect(progress.map((line) => [line.done, line.total])).toEqual([
      [10, 25],
      [20, 25],
    ]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: 'knowledge base ready', workspaceId: 'acme' }),
    );
  });

  it('logs the chunk progress of a big document stored over the API', async () => {
    await start({});
    const sections = Array.from({ length: 1_200 }, (_, i) => `## Question ${i}\n\nAnswer number ${i}.`);
    const response = await engine!.app.inject({
      method: 'PUT',
      url: '/api/workspaces/acme/knowledge/big-faq',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { content: `# Big FAQ\n\n${sections.join('\n\n')}` },
    });
    expect(response.statusCode).toBe(200);
    const progress = log.lines.filter((line) => line.msg === 'indexing knowledge document');
    expect(progress.map((line) => [line.documentId, line.done, line.total])).toEqual([
      ['big-faq', 500, 1_200],
      ['big-faq', 1_000, 1_200],
      ['big-faq', 1_200, 1_200],
    ]);
    // A small document is one batch: nothing to report.
    log.lines.length = 0;
    await engine!.app.inject({
      method: 'PUT',
      url: '/api/workspaces/acme/knowledge/small',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { content: '# Small\n\nOne passage.' },
    });
    expect(log.lines.filter((line) => line.msg === 'indexing knowledge document')).toEqual([]);
  });
});
