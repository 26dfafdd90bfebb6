import { createServer } from 'node:net';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';
import { CliError } from './cli-error.ts';

/** Where the local bridge listens unless `--inspect-port` says otherwise. */
const LOCAL_INSPECTOR_PORT = 8080;

/**
 * The bridge listens on a port of its own and crashes the process when that port is taken, so it is tried
 * first: a busy port is a one-line error before the engine starts, not a stack trace after.
 */
function ensurePortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new CliError(
              `the local inspector bridge cannot listen on port ${port}: it is in use; choose another with --inspect-port`,
              1,
            )
          : error,
      ),
    );
    // The bridge listens on every interface, so the probe does too.
    probe.listen(port, () => probe.close(() => resolve()));
  });
}

/**
 * `--inspect[=URL]`: streams every session actor's events and snapshots to a Stately inspector.
 * Without a URL it starts the local bridge (HTTP page + WebSocket, port 8080 or `port`) and connects to it;
 * with one it connects to an inspector WebSocket that is already running.
 */
export async function createInspector(url: string, logger: Logger, port = LOCAL_INSPECTOR_PORT) {
  if (!url) await ensurePortFree(port);
  const server = url ? undefined : createInspectorServer({ port, autoOpen: false });
  const target = url || `ws://localhost:${port}`;
  const inspector = createWebSocketInspector({ url: target });
  inspector.start();
  logger.info(
    { url: target, page: server ? `http://localhost:${port}` : undefined },
    'Stately inspector attached to every session actor',
  );
  return {
    inspect: (event: InspectionEvent) => inspector.inspect.next?.(event),
    stop: () => {
      inspector.stop();
      server?.stop();
    },
  };
}
