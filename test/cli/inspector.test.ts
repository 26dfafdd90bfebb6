import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import { afterAll, describe, expect, it } from 'vitest';
import { createInspector } from '../../src/cli/inspector.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { freePort, runCli, startServer, tempDir } from '../support/cli-process.ts';
import { createPgliteTestDatabase } from '../support/database.ts';
import { startTestEngine } from '../support/engine.ts';
import { ACME_NUMBER } from '../support/test-config.ts';

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

    const inspector = await createInspector(url, createLogger({ level: 'silent' }));
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

  it('without a URL, serves the local bridge page and relays session events to its WebSocket', async () => {
    const dir = await tempDir();
    cleanups.push(() => dir.remove());
    const config = join(dir.path, 'shop.yaml');
    await writeFile(
      config,
      `workspaces:
  - id: shop
    name: Corner Shop
    phoneNumbers: [{ phoneNumberId: "100200300", mode: sandbox }]
    humanTeams: [{ id: support, agents: [{ id: ana, name: Ana, token: shop-agent-token-0123456789 }] }]
`,
    );
    const inspectPort = await freePort();
    const server = await startServer(
      ['serve', '--config', config, '--inspect', '--inspect-port', String(inspectPort)],
      {
        PORT: String(await freePort()),
        BOTRELIC_DATA_DIR: join(dir.path, 'data'),
      },
    );
    cleanups.push(() => (server.child.exitCode === null ? server.stop('SIGKILL') : undefined));
    expect(server.logs).toContainEqual(
      expect.objectContaining({
        msg: 'Stately inspector attached to every session actor',
        url: `ws://localhost:${inspectPort}`,
        page: `http://localhost:${inspectPort}`,
      }),
    );

    const page = await fetch(`http://localhost:${inspectPort}`);
    expect(await page.text()).toContain(`new WebSocket('ws://localhost:${inspectPort}')`);

    const received: StatelyInspectionEvent[] = [];
    const receiver = createWebSocketReceiver({ server: `ws://localhost:${inspectPort}` });
    const subscription = receiver.subscribe((event) => {
      received.push(event);
    });
    cleanups.push(() => subscription.unsubscribe());
    const posted = await fetch(`${server.address}/api/workspaces/shop/sandbox/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer shop-agent-token-0123456789', 'content-type': 'application/json' },
      body: JSON.stringify({ from: '15550002222', text: 'hello inspector' }),
    });
    expect(posted.status).toBe(202);
    await waitFor(() =>
      received.some(
        (event) =>
          event.type === '@xstate.event' &&
          (event as { event: { type: string } }).event.type === 'customer.message',
      ),
    );
    expect(await server.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('says so in one line when the bridge port is taken, before starting the engine', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
    const port = (taken.address() as { port: number }).port;
    const { code, stderr } = await runCli(['serve', '--inspect', '--inspect-port', String(port)]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `botrelic: the local inspector bridge cannot listen on port ${port}: it is in use; choose another with --inspect-port\n`,
    );
  }, 60_000);
});
