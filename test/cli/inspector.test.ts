import { createServer } from 'node:net';
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { afterAll, describe, expect, it } from 'vitest';
import { createInspector } from '../../src/cli/inspector.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { createPgliteTestDatabase } from '../support/database.ts';
import { startTestEngine } from '../support/engine.ts';
import { ACME_NUMBER } from '../support/test-config.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('serve --inspect', () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('streams every session actor’s events and snapshots to a Stately inspector WebSocket', async () => {
    const port = await freePort();
    const bridge = createInspectorServer({ port, autoOpen: false });
    cleanups.push(() => bridge.stop());
    const url = `ws://127.0.0.1:${port}`;
    const received: StatelyInspectionEvent[] = [];
    const receiver = createWebSocketReceiver({ server: url });
    const subscription = receiver.subscribe((event) => {
      received.push(event);
    });
    cleanups.push(() => subscription.unsubscribe());

    const inspector = createInspector(url, createLogger({ level: 'silent' }));
    cleanups.push(() => inspector.stop());
    const database = await createPgliteTestDatabase();
    const harness = await startTestEngine({
      database,
      transport: createInProcessTransport(),
      inspect: inspector.inspect,
    });
    cleanups.push(() => database.close());
    cleanups.push(() => harness.stop());

    await harness.customerSays('acme', ACME_NUMBER, '31000001', 'hello inspector');
    await waitFor(() =>
      received.some(
        (event) =>
          event.type === '@xstate.event' &&
          (event as { event: { type: string } }).event.type === 'customer.message',
      ),
    );
    expect(received.some((event) => event.type === '@xstate.snapshot')).toBe(true);
  });
});
