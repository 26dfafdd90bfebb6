import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { bothDatabases, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { ACME_NUMBER, GLOBEX_NUMBER } from '../support/test-config.ts';

const IDLE_MS = 60_000;

/** The value of one sample of the scrape, or undefined when the scrape has no such sample. */
function sample(scrape: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  const prefix = wanted ? `${name}{${wanted}} ` : `${name} `;
  const line = scrape.split('\n').find((candidate) => candidate.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

describe.each(await bothDatabases())('session gauges on $adapter', ({ openDatabase, skip }) => {
  let database: TestDatabase | undefined;
  let harness: TestEngine | undefined;

  afterEach(async () => {
    await harness?.stop();
    await database?.close();
  });

  const scrape = async () => (await harness!.engine.app.inject({ method: 'GET', url: '/metrics' })).body;

  it.skipIf(skip)(
    'counts open sessions by workspace and state from the database, passivated ones included',
    async () => {
      database = await openDatabase();
      harness = await startTestEngine({
        database,
        transport: createInProcessTransport(),
        actors: { idleMs: IDLE_MS },
      });
      const { agent, engine } = harness;

      // acme: two answered (active), one handed off (fallback), one closed by its agent.
      for (const customer of ['31000001', '31000002']) {
        await harness.customerSays('acme', ACME_NUMBER, customer, 'hello');
        await agent.reply('Hi!');
        await harness.settle();
      }
      await harness.customerSays('acme', ACME_NUMBER, '31000003', 'a question');
      await agent.fallback('unsupported');
      await harness.settle();
      const closing = await harness.customerSays('acme', ACME_NUMBER, '31000004', 'hello');
      await agent.reply('Hi!');
      await harness.settle();
      await engine.sessions.command(closing, { type: 'agent.close', agentId: 'alice' });
      // globex: one composing its answer (the AI has not replied).
      await harness.customerSays('globex', GLOBEX_NUMBER, '32000001', 'hello');

      let metrics = await scrape();
      expect(sample(metrics, 'botrelic_open_sessions', { workspace: 'acme', state: 'active' })).toBe(2);
      expect(sample(metrics, 'botrelic_open_sessions', { workspace: 'acme', state: 'fallback' })).toBe(1);
      expect(sample(metrics, 'botrelic_open_sessions', { workspace: 'globex', state: 'ai_responding' })).toBe(
        1,
      );
      expect(
        sample(metrics, 'botrelic_open_sessions', { workspace: 'acme', state: 'closed' }),
      ).toBeUndefined();
      expect(sample(metrics, 'botrelic_passivated_sessions')).toBe(0);
      expect(sample(metrics, 'botrelic_passivations_total')).toBe(0);
      expect(sample(metrics, 'botrelic_live_actors')).toBe(4);

      // Idle past the limit: every actor but the composing one leaves memory; the sessions stay open.
      harness.clock.advance(IDLE_MS + 1);
      expect(engine.host.passivateIdle()).toBe(3);
      metrics = await scrape();
      expect(sample(metrics, 'botrelic_open_sessions', { workspace: 'acme', state: 'active' })).toBe(2);
      expect(sample(metrics, 'botrelic_open_sessions', { workspace: 'acme', state: 'fallback' })).toBe(1);
      expect(sample(metrics, 'botrelic_open_sessions', { workspace: 'globex', state: 'ai_responding' })).toBe(
        1,
      );
      expect(sample(metrics, 'botrelic_passivated_sessions')).toBe(3);
      expect(sample(metrics, 'botrelic_passivations_total')).toBe(3);
      expect(sample(metrics, 'botrelic_live_actors')).toBe(1);
      expect(sample(metrics, 'botrelic_live_sessions', { state: 'active' })).toBe(0);

      // A passivated session that hears from its customer is live again, and counted once.
      await harness.customerSays('acme', ACME_NUMBER, '31000001', 'me again');
      metrics = await scrape();
      expect(sample(metrics, 'botrelic_open_sessions', { workspace: 'acme', state: 'ai_responding' })).toBe(
        1,
      );
      expect(sample(metrics, 'botrelic_open_sessions', { workspace: 'acme', state: 'active' })).toBe(1);
      expect(sample(metrics, 'botrelic_passivated_sessions')).toBe(2);
    },
    60_000,
  );

  it.skipIf(skip)(
    'reports the open sessions as unknown when the database does not answer, and the rest as usual',
    async () => {
      database = await openDatabase();
      harness = await startTestEngine({ database, transport: createInProcessTransport() });
      await harness.customerSays('acme', ACME_NUMBER, '31000001', 'hello');
      expect(sample(await scrape(), 'botrelic_passivated_sessions')).toBe(0);

      await database.close();
      database = undefined;
      const response = await harness.engine.app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('# TYPE botrelic_open_sessions gauge');
      expect(
        sample(response.body, 'botrelic_open_sessions', { workspace: 'acme', state: 'ai_responding' }),
      ).toBeUndefined();
      expect(sample(response.body, 'botrelic_passivated_sessions')).toBeNaN();
      expect(sample(response.body, 'botrelic_live_actors')).toBe(1);
    },
    60_000,
  );
});
