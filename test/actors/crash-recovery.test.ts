import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionContext } from '../../src/machines/session.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { isNatsReachable, natsUrl } from '../support/services.ts';

interface SessionState {
  sessions: {
    id: string;
    state: string;
    version: number;
    snapshot: { context: SessionContext };
    closed_at: string | null;
  }[];
  outbound: { body: string; author: string }[];
}

/** A real engine process (test/support/host-process.ts) driven over stdin/stdout, killable with SIGKILL. */
class HostProcess {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #replies: ((line: unknown) => void)[] = [];
  readonly exited: Promise<NodeJS.Signals | number | null>;

  constructor(env: Record<string, string>) {
    this.#child = spawn(process.execPath, ['--import', 'tsx', 'test/support/host-process.ts'], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    createInterface({ input: this.#child.stdout }).on('line', (line) =>
      this.#replies.shift()?.(JSON.parse(line)),
    );
    this.#child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  }

  request(command: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#replies.push(resolve);
      this.#child.stdin.write(`${JSON.stringify(command)}\n`, (error) => error && reject(error));
    });
  }

  say(waId: string, text: string, wamid: string) {
    return this.request({ op: 'say', waId, text, wamid });
  }

  state(waId: string) {
    return this.request({ op: 'state', waId }) as Promise<SessionState>;
  }

  async until(
    waId: string,
    accept: (state: SessionState) => boolean,
    timeoutMs = 20_000,
  ): Promise<SessionState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.state(waId);
      if (accept(state)) return state;
      if (Date.now() > deadline) throw new Error(`timed out; last state: ${JSON.stringify(state)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  kill(): Promise<unknown> {
    this.#child.kill('SIGKILL');
    return this.exited;
  }
}

describe('the host killed mid-conversation (SIGKILL) and started again', () => {
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  let env: Record<string, string>;
  const children: HostProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    if (database.url) {
      env = { DATABASE_URL: database.url };
    } else {
      // No Postgres here: the child keeps PGlite on disk, as `npm start` does.
      await database.close();
      database = undefined;
      dataDir = await mkdtemp(join(tmpdir(), 'botrelic-crash-'));
      env = { BOTRELIC_DATA_DIR: dataDir };
    }
    if (await isNatsReachable()) env.NATS_URL = natsUrl();
  });

  afterAll(async () => {
    await Promise.all(children.map((child) => child.kill()));
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  function startHost(extra: Record<string, string> = {}) {
    const child = new HostProcess({ ...env, ...extra });
    children.push(child);
    return child;
  }

  it('resumes from the last persisted state and fires the timeout that fell due while it was down', async () => {
    // The AI takes 3 s, so the kill lands while the session is composing a reply.
    const first = startHost({ TEST_AI_DELAY_MS: '3000' });
    await first.say('5550001', 'What are your opening hours?', 'wamid.crash-1');
    await first.say('5550002', 'I want a human', 'wamid.crash-2');
    const composing = await first.until('5550001', (s) => s.sessions[0]?.state === 'ai_responding');
    const waiting = await first.until('5550002', (s) => s.sessions[0]?.state === 'fallback');
    expect(waiting.outbound.map((m) => m.author)).toEqual(['system']);

    const killedAt = Date.now();
    expect(await first.kill()).toBe('SIGKILL');
    // The handoff timeout (2 s) was still ahead when the process died: it falls due while none is running.
    expect(waiting.sessions[0]!.snapshot.context.timer?.at).toBeGreaterThan(killedAt);
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const second = startHost({ TEST_AI_DELAY_MS: '0' });
    // The composing session is rehydrated in ai_responding, its AI call restarted, answered once.
    const answered = await second.until('5550001', (s) => s.sessions[0]?.state === 'active');
    expect(answered.sessions).toHaveLength(1);
    expect(answered.sessions[0]!.id).toBe(composing.sessions[0]!.id);
    expect(answered.outbound).toEqual([{ author: 'ai', body: 'You said: What are your opening hours?' }]);
    expect(answered.sessions[0]!.version).toBe(composing.sessions[0]!.version + 1);

    // The overdue handoff timeout is found by the sweeper and fires: the customer is told, the session closes.
    const closed = await second.until('5550002', (s) => s.sessions[0]?.state === 'closed');
    const context = closed.sessions[0]!.snapshot.context;
    expect(closed.sessions[0]!.id).toBe(waiting.sessions[0]!.id);
    expect(context.closedReason).toBe('handoff_timeout');
    expect(context.history.map((entry) => entry.kind)).toEqual(['customer', 'fallback', 'system']);
    expect(closed.outbound.map((m) => m.body)).toEqual([
      'Let me connect you with our team.',
      'Nobody is free, sorry.',
    ]);

    // Nothing was applied twice: the customer's next message starts a new session.
    await second.say('5550002', 'hello again', 'wamid.crash-3');
    const renewed = await second.until(
      '5550002',
      (s) => s.sessions.length === 2 && s.sessions[1]!.state === 'active',
    );
    expect(renewed.sessions[0]!.state).toBe('closed');
    expect(renewed.outbound.filter((m) => m.author === 'ai')).toHaveLength(1);
  }, 60_000);
});
