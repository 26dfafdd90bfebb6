import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/persistence/database.ts';
import { freePort, type RunningServer, startServer, tempDir } from '../support/cli-process.ts';

const TOKEN = 'shop-agent-token-0123456789';
const CUSTOMERS = Array.from({ length: 20 }, (_, i) => `155500${String(i).padStart(5, '0')}`);

const CONFIG = `workspaces:
  - id: shop
    name: Corner Shop
    phoneNumbers:
      - phoneNumberId: "100200300"
        mode: sandbox
    knowledge: [./kb]
    humanTeams:
      - id: support
        agents:
          - { id: ana, name: Ana, token: "\${SHOP_AGENT_TOKEN}" }
`;

const HOURS = `# Opening hours

The Corner Shop is open Monday to Friday from 9:00 to 17:00 and on Saturday from 10:00 to 14:00.
`;

const run = promisify(execFile);

/** Every process below `pid`: npm's shell, and the engine under it when the shell did not exec. */
async function descendantsOf(pid: number): Promise<number[]> {
  const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }));
  const children = stdout
    .split('\n')
    .filter((line) => line.trim())
    .map(Number);
  return [...children, ...(await Promise.all(children.map(descendantsOf))).flat()];
}

/** A zombie (exited, not yet reaped by init) counts as gone. */
function isAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Each customer's sessions and messages, as the data folder holds them once the engine is gone. */
async function storedConversations(dataDir: string) {
  const database = await createDatabase({ dataDir });
  try {
    const sessions = await database.db
      .selectFrom('sessions')
      .select(['customer_wa_id', 'state', 'version'])
      .where('workspace_id', '=', 'shop')
      .execute();
    const messages = await database.db
      .selectFrom('messages')
      .select(['customer_wa_id', 'direction', 'applied_at'])
      .where('workspace_id', '=', 'shop')
      .orderBy('id')
      .execute();
    const byCustomer = new Map<string, { sessions: typeof sessions; messages: typeof messages }>();
    for (const row of [...sessions, ...messages]) {
      if (!byCustomer.has(row.customer_wa_id))
        byCustomer.set(row.customer_wa_id, { sessions: [], messages: [] });
    }
    for (const row of sessions) byCustomer.get(row.customer_wa_id)!.sessions.push(row);
    for (const row of messages) byCustomer.get(row.customer_wa_id)!.messages.push(row);
    return byCustomer;
  } finally {
    await database.close();
  }
}

/** `botrelic serve` as an operator runs it: a real process, a real port, PGlite in a data folder, SIGTERM. */
describe('botrelic serve', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let dataDir: string;
  const running: RunningServer[] = [];

  beforeAll(async () => {
    dir = await tempDir();
    config = join(dir.path, 'shop.yaml');
    dataDir = join(dir.path, 'data');
    await mkdir(join(dir.path, 'kb'));
    await writeFile(join(dir.path, 'kb', 'opening-hours.md'), HOURS);
    await writeFile(config, CONFIG);
  });

  afterAll(async () => {
    for (const server of running) if (server.child.exitCode === null) await server.stop('SIGKILL');
    await dir?.remove();
  });

  async function serve(extraEnv: Record<string, string> = {}, command?: string[], args = ['serve']) {
    const server = await startServer(
      [...args, '--config', config],
      {
        PORT: String(await freePort()),
        BOTRELIC_DATA_DIR: dataDir,
        SHOP_AGENT_TOKEN: TOKEN,
        BOTRELIC_SANDBOX_RECEIPT_DELAY: '0s',
        ...extraEnv,
      },
      command,
    );
    running.push(server);
    return server;
  }

  const api = (server: RunningServer, path: string, init: RequestInit = {}) =>
    fetch(`${server.address}/api/workspaces/shop/sandbox/${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    });

  it('drains on SIGTERM, exits 0, and a restart finishes what was in flight', async () => {
    // The AI takes 1.5 s: SIGTERM lands while messages are being applied and sessions compose answers.
    const first = await serve({ BOTRELIC_AI_LATENCY_MS: '1500' });
    const posts = CUSTOMERS.map((from) =>
      api(first, 'messages', {
        method: 'POST',
        body: JSON.stringify({ from, text: 'When are you open on Saturday?' }),
      }).then(
        (response) => response.status,
        () => 'refused',
      ),
    );
    await Promise.race(posts);
    const exitCode = first.stop('SIGTERM');
    const statuses = await Promise.all(posts);
    expect(await exitCode).toBe(0);
    expect(first.logs).toContainEqual(
      expect.objectContaining({ msg: 'shutting down: draining session mailboxes', signal: 'SIGTERM' }),
    );
    expect(first.logs.at(-1)).toMatchObject({ msg: 'stopped' });
    expect(first.stderr()).toBe('');

    // Every message acknowledged before the stop was applied, its AI turn committed, before the process exited.
    const accepted = CUSTOMERS.filter((_, i) => statuses[i] === 202);
    expect(accepted.length).toBeGreaterThan(0);
    const afterStop = await storedConversations(dataDir);
    expect([...afterStop.keys()].sort()).toEqual(accepted);
    for (const { sessions, messages } of afterStop.values()) {
      expect(sessions).toEqual([expect.objectContaining({ state: 'ai_responding', version: 1 })]);
      expect(messages).toEqual([expect.objectContaining({ direction: 'in', applied_at: expect.any(Date) })]);
    }

    // A restart resumes the sessions that were composing: each customer gets the answer, once.
    const second = await serve();
    let replies: { to: string; author: string; text: string | null }[] = [];
    for (let attempt = 0; attempt < 150 && replies.length < accepted.length; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      replies = ((await (await api(second, 'outbox')).json()) as { messages: typeof replies }).messages;
    }
    expect(replies.map((reply) => reply.to).sort()).toEqual(accepted);
    for (const reply of replies)
      expect(reply).toMatchObject({ author: 'ai', text: expect.stringMatching(/10:00/) });
    expect(await second.stop('SIGINT')).toBe(0);

    for (const { sessions, messages } of (await storedConversations(dataDir)).values()) {
      expect(sessions).toEqual([expect.objectContaining({ state: 'active', version: 2 })]);
      expect(messages.map((message) => message.direction)).toEqual(['in', 'out']);
    }
  }, 120_000);

  it('`npm start` passes SIGTERM on to the engine, which drains and exits 0', async () => {
    const server = await serve({}, ['npm'], ['start', '--silent', '--']);
    const engine = await descendantsOf(server.child.pid!);
    try {
      expect(await server.stop('SIGTERM')).toBe(0);
      expect(server.logs.at(-1)).toMatchObject({ msg: 'stopped' });
      expect(engine.filter(isAlive)).toEqual([]);
    } finally {
      // A shell that swallows the signal leaves the engine running: it must not outlive the test.
      for (const pid of engine.filter(isAlive)) process.kill(pid, 'SIGKILL');
    }
  }, 60_000);
});
