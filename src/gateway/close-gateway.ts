import type { FastifyInstance } from 'fastify';

/** How often idle keep-alive connections are closed while the gateway shuts down. */
const IDLE_SWEEP_MS = 50;

/**
 * Stops the gateway: no new connections, in-flight requests answered, then closed. Fastify waits for every
 * connection, and Node closes only the connections idle when the close begins: one still answering a request
 * then stays open after its response until the keep-alive timeout (72 s), holding up the whole shutdown. So
 * connections are closed as they go idle.
 */
export async function closeGateway(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}
