import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentAuthenticator } from '../../src/gateway/agent-auth.ts';
import { eventStreamRoute } from '../../src/gateway/event-stream-route.ts';
import { connectEventStream } from '../../src/inbox/client/event-stream.ts';
import type { ServerSentEvent } from '../../src/inbox/client/sse-parser.ts';
import { createInboxQueries } from '../../src/persistence/inbox-queries.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ACME_NUMBER, testConfig } from '../support/test-config.ts';

const ALICE = 'alice-token-0123456789';

/**
 * The inbox page's event stream client (the code the browser runs) against the real route: after a `resync`
 * and a dropped connection it must resume from where the resync put it, not from the id it started with.
 */
describe("the inbox page's event stream", () => {
  let database: TestDatabase;
  let transport: Transport;
  let app: FastifyInstance;
  let baseUrl: string;
  const realFetch = globalThis.fetch;
  /** The Last-Event-ID of every request the client made, in order. */
  const resumedFrom: (string | null)[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    await syncWorkspaces(database.db, testConfig());
    transport = createInProcessTransport();
    app = Fastify();
    app.decorateRequest('agent', null);
    app.addHook('onRequest', createAgentAuthenticator(database.db));
    await app.register(eventStreamRoute, {
      transport,
      queries: createInboxQueries(database.db),
      heartbeatMs: 60_000,
      replayLimit: 2,
    });
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    // The page fetches `/api/events` relative to its own origin; here that origin is the test server.
    globalThis.fetch = (input, init) => {
      resumedFrom.push(new Headers(init?.headers).get('last-event-id'));
      return realFetch(new URL(String(input), baseUrl), init);
    };
  });

  afterAll(async () => {
    globalThis.fetch = realFetch;
    await app?.close();
    await transport?.close();
    await database?.close();
  });

  it('resumes after a resync from the id the resync gave, so the next reconnect does not resync again', async () => {
    await database.db
      .insertInto('sessions')
      .values({
        id: 'session-1',
        workspace_id: 'acme',
        session_key: `${ACME_NUMBER}-1`,
        partition: 1,
        phone_number_id: ACME_NUMBER,
        customer_wa_id: '1',
        state: 'active',
        snapshot: '{}',
        machine_version: 1,
        version: 1,
        created_at: new Date(),
        updated_at: new Date(),
      })
      .execute();
    const ids = await database.db
      .insertInto('session_events')
      .values(
        Array.from({ length: 4 }, () => ({ workspace_id: 'acme', session_id: 'session-1', payload: '{}' })),
      )
      .returning('id')
      .execute();
    const latest = ids.at(-1)!.id;

    const received: ServerSentEvent[] = [];
    const stream = connectEventStream(ALICE, ids[0]!.id, {
      onEvent: (event) => received.push(event),
      onConnection: () => {},
      onUnauthorized: () => {},
    });
    const readies = () => received.filter((event) => event.event === 'ready').length;
    try {
      await until(() => readies() === 1);
      expect(received.map((event) => event.event)).toEqual(['resync', 'ready']);

      // The connection drops; the client reconnects by itself.
      app.server.closeAllConnections();
      await until(() => readies() === 2);
      expect(resumedFrom).toEqual([ids[0]!.id, latest]);
      expect(received.map((event) => event.event)).toEqual(['resync', 'ready', 'ready']);
    } finally {
      stream.close();
    }
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let attempt = 0; !check(); attempt++) {
    if (attempt > 500) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
