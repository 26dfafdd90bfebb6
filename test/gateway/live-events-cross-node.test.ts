import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/app.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createDatabase } from '../../src/persistence/database.ts';
import { createTestDatabase, isPostgresReachable, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { type EventStreamClient, openEventStream } from '../support/event-stream-client.ts';
import {
  connectTestTransport,
  isNatsReachable,
  natsRequiredMessage,
  type TestTransport,
} from '../support/services.ts';
import { ACME_NUMBER, testConfig } from '../support/test-config.ts';

const ALICE = 'alice-token-0123456789';

// Two processes' worth of engine need a transport and a database that span them: NATS and Postgres. The
// in-process transport and PGlite cannot, so without them this file has nothing to show (in CI it fails).
const services = (await isNatsReachable()) && (await isPostgresReachable());
if (!services && process.env.CI !== 'true') {
  console.warn(
    'cross-node event stream test skipped: it needs NATS and Postgres running. In CI it fails instead.',
  );
}

/**
 * Two nodes on one Postgres and one NATS: node A owns every partition and hosts the sessions; node B owns
 * none and only serves the API. An agent whose event stream is on B sees, live, what happens to a session
 * A hosts (its messages' delivery statuses included), and B's commands reach the session on A.
 */
describe.skipIf(!services && process.env.CI !== 'true')('the event stream across two nodes', () => {
  let database: TestDatabase;
  let transports: TestTransport[] = [];
  let nodeA: TestEngine;
  let nodeB: Engine;
  let closeNodeBDatabase: () => Promise<void>;
  let nodeBUrl: string;

  beforeAll(async () => {
    if (!(await isNatsReachable())) throw new Error(natsRequiredMessage());
    database = await createTestDatabase();
    if (database.kind !== 'postgres') throw new Error('Postgres is required in CI for the cross-node test');
    transports = [await connectTestTransport(), await connectTestTransport()];
    nodeA = await startTestEngine({ database, transport: transports[0]!.transport });
    // Its own connection pool to the same database, as another process would have; never started, so it
    // owns no partition and hosts no session.
    const nodeBDatabase = await createDatabase({ url: database.url! });
    closeNodeBDatabase = nodeBDatabase.close;
    nodeB = await createEngine({
      config: testConfig(),
      env: readEnvironment({}),
      logger: createLogger({ level: 'silent' }),
      database: nodeBDatabase,
      transport: transports[1]!.transport,
    });
    await nodeB.app.listen({ port: 0, host: '127.0.0.1' });
    nodeBUrl = `http://127.0.0.1:${(nodeB.app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await nodeB?.stop();
    await closeNodeBDatabase?.();
    await nodeA?.stop();
    for (const transport of transports) await transport.close();
    await database?.close();
  });

  it("streams to an agent on node B the events of a session node A hosts, and B's commands reach it", async () => {
    expect(transports.map((transport) => transport.kind)).toEqual(['nats', 'nats']);
    let stream: EventStreamClient | undefined;
    try {
      stream = await openEventStream(nodeBUrl, ALICE);
      expect(stream.status).toBe(200);
      await stream.next((event) => event.event === 'ready');

      await nodeA.customerSays('acme', ACME_NUMBER, '4916000000001', 'I want a human');
      await nodeA.agent.fallback('keyword');
      const waiting = await stream.next((event) => event.event === 'session.waiting');
      const { sessionId } = JSON.parse(waiting.data) as { sessionId: string };
      // Node A's actor holds the session; node B has none.
      expect([nodeA.engine.host.liveActors, nodeB.host.liveActors]).toEqual([1, 0]);
      // Node A's sender delivered the handoff message: its status reaches B's stream too.
      const sent = await stream.next(
        (event) => event.event === 'message.status' && JSON.parse(event.data).sessionId === sessionId,
      );
      expect(JSON.parse(sent.data)).toMatchObject({ status: 'sent' });

      const takeover = await fetch(`${nodeBUrl}/api/sessions/${sessionId}/takeover`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ALICE}` },
      });
      expect(takeover.status).toBe(200);
      const assigned = await stream.next(
        (event) => event.event.startsWith('session.') && JSON.parse(event.data).sessionId === sessionId,
      );
      expect(nodeB.host.liveActors).toBe(0);
      expect([assigned.event, JSON.parse(assigned.data).handoff.agentId]).toEqual([
        'session.assigned',
        'alice',
      ]);
    } finally {
      stream?.close();
    }
  });
});
