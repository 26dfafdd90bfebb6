import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config/environment.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startSandboxEngine } from '../../src/sandbox/sandbox-engine.ts';

/** `botrelic chat` as a person uses it: lines typed on stdin, the conversation read from stdout. */
class ChatProcess {
  readonly child: ChildProcessWithoutNullStreams;
  output = '';
  #read = 0;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['bin/botrelic.js', 'chat', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Waits for output matching `pattern` after what earlier waits consumed; returns the match. */
  async expect(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.output.slice(this.#read).match(pattern);
      if (match) {
        this.#read += (match.index ?? 0) + match[0].length;
        return match;
      }
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`no ${pattern} in the chat's output:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits until every pattern matches after what earlier waits consumed, in any order (events race replies). */
  async expectAll(patterns: RegExp[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.output.slice(this.#read);
      const matches = patterns.map((pattern) => rest.match(pattern));
      if (matches.every((match) => match !== null)) {
        this.#read += Math.max(...matches.map((match) => (match?.index ?? 0) + (match?.[0].length ?? 0)));
        return;
      }
      if (Date.now() > deadline || this.child.exitCode !== null) {
        const missing = patterns.filter((_, i) => matches[i] === null).join(', ');
        throw new Error(`no ${missing} in the chat's output:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  exited(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }
}

let chat: ChatProcess | undefined;

afterEach(() => {
  if (chat?.child.exitCode === null) chat.child.kill();
});

describe('botrelic chat', () => {
  it('plays a customer of an in-process engine through an answer, a button handoff, a timeout and a new customer', async () => {
    chat = new ChatProcess([]);
    const banner = await chat.expect(/you are customer (\d+)\n/, 60_000);
    await chat.expect(/Type a line to send it as the customer/);

    chat.type('What are your opening hours?');
    await chat.expect(/· session [0-9a-f-]{36}\n/);
    await chat.expect(/ai ▸ \*Old Town café and roastery\*/);
    await chat.expect(/\(confidence 0\.\d\d · opening-hours-and-locations\.md#\d/);

    chat.type('/button talk_to_human Talk to a person');
    await chat.expectAll([
      /· fallback: customer_request/,
      /· state: fallback\n/,
      /system ▸ Let me connect you with our team/,
    ]);

    // The handoff timeout is 15 minutes in botrelic.yaml: /advance fires it now.
    chat.type('/advance');
    await chat.expectAll([
      /· fired the pending timeout; the session is fallback\n/,
      /system ▸ Sorry for the wait/,
    ]);

    chat.type('/new');
    const next = await chat.expect(/· you are now customer (\d+)\n/);
    expect(next[1]).not.toBe(banner[1]);
    chat.type('/image');
    await chat.expect(/· session [0-9a-f-]{36}\n/);
    await chat.expect(/· fallback: unsupported \(type "image"\)/);

    chat.type('/quit');
    expect(await chat.exited()).toBe(0);
  }, 120_000);

  it('talks to a running engine with --url and --token, over the same APIs', async () => {
    const engine = await startSandboxEngine({
      config: await loadConfig('botrelic.yaml', {}),
      env: readEnvironment({}),
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const url = await engine.engine.app.listen({ port: 0, host: '127.0.0.1' });
      chat = new ChatProcess([
        '--url',
        url,
        '--token',
        'demo-agent-token-change-me',
        '--customer',
        '15550001234',
      ]);
      await chat.expect(/you are customer 15550001234\n/, 60_000);
      chat.type('I want to speak to a human');
      await chat.expectAll([/· fallback: keyword \(keyword "human"\)/, /system ▸ Let me connect you/]);
      chat.type('/quit');
      expect(await chat.exited()).toBe(0);
      const stored = await engine.engine.database.db
        .selectFrom('messages')
        .select('body')
        .where('customer_wa_id', '=', '15550001234')
        .where('direction', '=', 'in')
        .execute();
      expect(stored.map((row) => row.body)).toEqual(['I want to speak to a human']);
    } finally {
      await engine.stop();
    }
  }, 120_000);

  it('plays a workspace that has no human agents, in-process', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'botrelic-chat-'));
    try {
      const config = join(folder, 'botrelic.yaml');
      await writeFile(
        config,
        [
          'workspaces:',
          '  - id: solo',
          '    name: Solo Shop',
          '    phoneNumbers: [{ phoneNumberId: "100000000000009", mode: sandbox }]',
          '    fallback: { keywords: [human], message: "Nobody is here, but we read everything." }',
          '',
        ].join('\n'),
      );
      chat = new ChatProcess(['--config', config, '--customer', '15550009999']);
      await chat.expect(/botrelic chat — Solo Shop \(solo\), sandbox number 100000000000009/, 60_000);
      chat.type('a human please');
      await chat.expectAll([/· fallback: keyword/, /system ▸ Nobody is here, but we read everything\./]);
      chat.type('/quit');
      expect(await chat.exited()).toBe(0);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a workspace the config does not have', async () => {
    chat = new ChatProcess(['--workspace', 'nope']);
    await chat.expect(/workspace "nope" is not in the config \(it has demo\)/, 60_000);
    expect(await chat.exited()).toBe(2);
  });

  it('refuses --url without --token', async () => {
    chat = new ChatProcess(['--url', 'http://127.0.0.1:9']);
    await chat.expect(/--url and --token go together/);
    expect(await chat.exited()).toBe(2);
  });
});
