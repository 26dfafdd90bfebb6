/**
 * The real `botrelic` command in a child process, as an operator runs it: `node bin/botrelic.js …` with an
 * environment of the test's choosing (nothing inherited but PATH and HOME, so a developer's DATABASE_URL or
 * ANTHROPIC_API_KEY cannot leak in).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cleanEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
}

/** Runs a command to the end. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/botrelic.js', ...args],
      { env: cleanEnv(env), timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A fresh folder, removed by the returned function. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'botrelic-cli-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface RunningServer {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` from the "botrelic is serving" log line. */
  address: string;
  /** Every JSON log line so far, parsed. */
  logs: Record<string, unknown>[];
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends the signal and resolves with the exit code (or the signal that ended it). */
  stop(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals>;
}

/** A server that is not serving by then is killed, so a hung start cannot outlive the test. */
const STARTUP_TIMEOUT_MS = 45_000;

/**
 * Starts a long-running command (`serve`, or `npm start`) and resolves once it logged "botrelic is serving".
 * `command` defaults to the CLI itself.
 */
export async function startServer(
  args: string[],
  env: Record<string, string>,
  command: string[] = [process.execPath, 'bin/botrelic.js'],
): Promise<RunningServer> {
  const [file, ...prefix] = command;
  const child = spawn(file!, [...prefix, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal!)),
  );
  // The last log lines are read once the pipes close; a grandchild still holding them must not hang the test.
  const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const serving = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'botrelic is serving') resolve(entry.address as string);
    });
    void exited.then((code) => reject(new Error(`exited (${code}) before serving:\n${stderr}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), STARTUP_TIMEOUT_MS);
  const address = await serving.finally(() => clearTimeout(timer));
  return {
    child,
    address,
    logs,
    stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      const code = await exited;
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      return code;
    },
  };
}
