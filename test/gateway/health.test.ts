import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';

describe('health, readiness and metrics', () => {
  let database: TestDatabase;
  let harness: TestEngine;
  const transport = createInProcessTransport();

  beforeAll(async () => {
    database = await createTestDatabase();
    harness = await startTestEngine({ database, transport });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('answers /healthz while the process runs', async () => {
    const response = await harness.engine.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('is ready while the database and the transport answer', async () => {
    const response = await harness.engine.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { database: 'ok', transport: 'ok' } });
  });

  it('serves Prometheus text with the host metrics and the process defaults', async () => {
    const response = await harness.engine.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toContain('# TYPE botrelic_live_actors gauge');
    expect(response.body).toContain('# TYPE botrelic_stale_writes_total counter');
    expect(response.body).toContain('# TYPE botrelic_open_sessions gauge');
    expect(response.body).toContain('# TYPE botrelic_passivated_sessions gauge');
    expect(response.body).toContain('# TYPE botrelic_passivations_total counter');
    expect(response.body).toContain('# TYPE botrelic_process_cpu_user_seconds_total counter');
  });

  it('is not ready, naming what is down, once the database and the transport are gone', async () => {
    await transport.close();
    await database.close();
    const response = await harness.engine.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      status: 'not_ready',
      checks: { database: 'unavailable', transport: 'unavailable' },
    });
    // Liveness is about the process, not its dependencies.
    expect((await harness.engine.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
