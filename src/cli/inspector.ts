import { createWebSocketInspector } from '@statelyai/inspect';
import type { Logger } from 'pino';
import type { InspectionEvent } from 'xstate';

const DEFAULT_INSPECTOR_URL = 'ws://localhost:8080';

/** `--inspect[=URL]`: streams every session actor's events and snapshots to a Stately WebSocket inspector. */
export function createInspector(url: string, logger: Logger) {
  const inspector = createWebSocketInspector({ url: url || DEFAULT_INSPECTOR_URL });
  inspector.start();
  logger.info({ url: url || DEFAULT_INSPECTOR_URL }, 'Stately inspector attached to every session actor');
  return {
    inspect: (event: InspectionEvent) => inspector.inspect.next?.(event),
    stop: () => inspector.stop(),
  };
}
