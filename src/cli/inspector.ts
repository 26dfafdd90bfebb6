import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';

const LOCAL_INSPECTOR_PORT = 8080;

/**
 * `--inspect[=URL]`: streams every session actor's events and snapshots to a Stately inspector.
 * Without a URL it starts the local bridge (HTTP page + WebSocket on port 8080) and connects to it;
 * with one it connects to an inspector WebSocket that is already running.
 */
export function createInspector(url: string, logger: Logger) {
  const server = url ? undefined : createInspectorServer({ port: LOCAL_INSPECTOR_PORT, autoOpen: false });
  const target = url || `ws://localhost:${LOCAL_INSPECTOR_PORT}`;
  const inspector = createWebSocketInspector({ url: target });
  inspector.start();
  logger.info(
    { url: target, page: server ? `http://localhost:${LOCAL_INSPECTOR_PORT}` : undefined },
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
