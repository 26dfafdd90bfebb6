import { setPriority } from 'node:os';
import { join } from 'node:path';
import { MetricsScrape } from '../support/prometheus.ts';
import { freePort, type ServerProcess, startServerProcess } from './child-process.ts';

export type EngineMode = 'services' | 'embedded';

export interface EngineProcess extends ServerProcess {
  mode: EngineMode;
  scrape(): Promise<MetricsScrape>;
}

export interface EngineProcessOptions {
  mode: EngineMode;
  configPath: string;
  /** Services mode: the run's own database. */
  databaseUrl?: string;
  /** Embedded mode: where PGlite keeps its files. */
  dataDir?: string;
  appSecret: string;
  graphUrl: string;
  logFile: string;
  /** Extra environment, e.g. BOTRELIC_AI_LATENCY_MS. */
  env?: Record<string, string>;
  /** Writes a V8 CPU profile into this folder when the engine exits. */
  cpuProfileDir?: string;
}

/** The sessions process's niceness in services mode (0 is the default, 19 the lowest priority). */
const SESSIONS_NICENESS = 10;

/**
 * The engine as an operator runs it, configured only through its environment: embedded mode is one `botrelic
 * serve` process; services mode is a sessions process and a gateway process (BOTRELIC_ROLE, decision 0011),
 * reported together: webhooks go to the gateway, CPU and memory are both processes' sum, metrics both scrapes.
 */
export async function startEngineProcess(options: EngineProcessOptions): Promise<EngineProcess> {
  if (options.mode === 'embedded') return startServe(options, 'all', options.logFile);
  // The sessions side first: it ingests the knowledge base and owns the partitions the gateway's doorbells ring.
  const sessions = await startServe(options, 'sessions', options.logFile.replace(/\.log$/, '-sessions.log'));
  // As an operator sharing cores between the two would (`nice -n 10`, decision 0011): when the machine is
  // saturated, acknowledgements get the CPU first, and replies absorb the backlog.
  setPriority(sessions.pid, SESSIONS_NICENESS);
  const gateway = await startServe(
    options,
    'gateway',
    options.logFile.replace(/\.log$/, '-gateway.log'),
  ).catch(async (error: unknown) => {
    await sessions.stop();
    throw error;
  });
  const parts = [gateway, sessions];
  return {
    ...gateway,
    logFile: `${gateway.logFile} and ${sessions.logFile}`,
    cpuSeconds: () => parts.reduce((total, part) => total + part.cpuSeconds(), 0),
    memory() {
      const [a, b] = parts.map((part) => part.memory());
      return { rss: a!.rss + b!.rss, peakRss: a!.peakRss + b!.peakRss };
    },
    async stop(timeoutMs) {
      // The gateway first, as a rolling deploy would: what it acknowledged is left for the sessions to finish.
      const gatewayCode = await gateway.stop(timeoutMs);
      const sessionsCode = await sessions.stop(timeoutMs);
      return gatewayCode === 0 ? sessionsCode : gatewayCode;
    },
    async scrape() {
      const texts = await Promise.all(
        parts.map(async (part) => (await fetch(`${part.origin}/metrics`)).text()),
      );
      return new MetricsScrape(texts.join('\n'));
    },
  };
}

async function startServe(
  options: EngineProcessOptions,
  role: 'all' | 'gateway' | 'sessions',
  logFile: string,
): Promise<EngineProcess> {
  const port = await freePort();
  // Nothing from the bench's own environment leaks in: the mode is exactly what is set here.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    BOTRELIC_ROLE: role,
    BOTRELIC_CONFIG: options.configPath,
    WHATSAPP_APP_SECRET: options.appSecret,
    WHATSAPP_GRAPH_URL: options.graphUrl,
    // The bench's numbers are on Meta's highest throughput tier (1,000 messages/s each), not the default 80.
    BOTRELIC_PHONE_NUMBER_RATE: '1000',
    ...(options.mode === 'services'
      ? { DATABASE_URL: options.databaseUrl, NATS_URL: 'nats://127.0.0.1:4222' }
      : { BOTRELIC_DATA_DIR: options.dataDir }),
    ...options.env,
  };
  const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const server = await startServerProcess({
    nodeArgs: [...profile, join(import.meta.dirname, '../../bin/botrelic.js'), 'serve'],
    env,
    port,
    readyPath: '/readyz',
    logFile,
  });
  return {
    ...server,
    mode: options.mode,
    async scrape() {
      const response = await fetch(`${server.origin}/metrics`);
      return new MetricsScrape(await response.text());
    },
  };
}
