import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { closeGateway } from '../../src/gateway/close-gateway.ts';

describe('closing the gateway', () => {
  it('answers the request in flight, then closes its keep-alive connection instead of waiting 72 s', async () => {
    const app = Fastify();
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    app.get('/slow', async () => {
      arrived();
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { ok: true };
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });

    // fetch keeps the connection alive after the response, as Meta's and the inbox's clients do.
    const response = fetch(`${address}/slow`);
    await requestArrived;
    const started = performance.now();
    await closeGateway(app);
    const closedAfterMs = performance.now() - started;

    expect((await response).status).toBe(200);
    expect(await (await response).json()).toEqual({ ok: true });
    expect(closedAfterMs).toBeLessThan(5_000);
  }, 15_000);
});
