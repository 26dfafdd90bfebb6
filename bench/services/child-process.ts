import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { processCpuSeconds, processMemory } from '../support/proc-stats.ts';

/** A server the bench started in its own process, with what /proc says about it. */
export interface ServerProcess {
  origin: string;
  pid: number;
  /** Where its stdout and stderr go. */
  logFile: string;
  cpuSeconds(): number;
  memory(): { rss: number; peakRss: number };
  /** SIGTERM, then SIGKILL if it has not exited in time; resolves with its exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** A port the kernel says is free now: the child binds it a moment later. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Spawns a node process serving HTTP on `port`, and waits until `readyPath` answers 200. */
export async function startServerProcess(options: {
  nodeArgs: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  readyPath: string;
  logFile: string;
  readyTimeoutMs?: number;
}): Promise<ServerProcess> {
  const log = createWriteStream(options.logFile);
  const child = spawn(process.execPath, options.nodeArgs, {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const origin = `http://127.0.0.1:${options.port}`;
  try {
    await waitUntilReady(child, `${origin}${options.readyPath}`, options.readyTimeoutMs ?? 120_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message} (see ${options.logFile})`);
  }
  const pid = child.pid!;
  let lastCpu = 0;
  let lastMemory = { rss: 0, peakRss: 0 };
  return {
    origin,
    pid,
    logFile: options.logFile,
    // The last value read stays available after the process exited.
    cpuSeconds: () => {
      lastCpu = processCpuSeconds(pid) ?? lastCpu;
      return lastCpu;
    },
    memory: () => {
      lastMemory = processMemory(pid) ?? lastMemory;
      return lastMemory;
    },
    async stop(timeoutMs = 60_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      log.end();
      return code;
    },
  };
}

async function waitUntilReady(child: ChildProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the process exited with code ${child.exitCode} before it was ready`);
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${url} was not ready after ${timeoutMs} ms`);
}
