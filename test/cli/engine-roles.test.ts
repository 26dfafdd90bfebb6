import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RunningServer, runCli, startServer } from '../support/cli-process.ts';
import { createTestDatabase, isPostgresReachable, type TestDatabase } from '../support/database.ts';
import { isNatsReachable, natsRequiredMessage, natsUrl } from '../support/services.ts';

const TOKEN = 'demo-agent-token-change-me';

// The two sides meet only in Postgres and over NATS: without both there is nothing to split (in CI it fails).
const services = (await isNatsReachable()) && (await isPostgresReachable());
if (!services && process.env.CI !== 'true') {
  console.warn('engine roles test skipped: it needs NATS and Postgres running. In CI it fails instead.');
}

async function metric(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

/**
 * One engine split over two processes, as an operator scales it: `BOTRELIC_ROLE=gateway` takes the HTTP traffic
 * and records it; `BOTRELIC_ROLE=sessions` hosts the sessions and delivers their replies. A customer's message
 * posted to the gateway is answered by the sessions process, and each side serves only what is its own.
 */
describe.skipIf(!services && process.env.CI !== 'true')('the engine split by BOTRELIC_ROLE', () => {
  let database: TestDatabase;
  let gateway: RunningServer;
  let sessions: RunningServer;

  beforeAll(async () => {
    if (!(await isNatsReachable())) throw new Error(natsRequiredMessage());
    database = await createTestDatabase();
    if (!database.url) throw new Error('Postgres is required in CI for the engine roles test');
    const env = { DATABASE_URL: database.url, NATS_URL: natsUrl(), LOG_LEVEL: 'info' };
    [gateway, sessions] = await Promise.all([
      startServer(['serve'], { ...env, BOTRELIC_ROLE: 'gateway', PORT: String(await freePort()) }),
      startServer(['serve'], { ...env, BOTRELIC_ROLE: 'sessions', PORT: String(await freePort()) }),
    ]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([gateway?.stop(), sessions?.stop()]);
    await database?.close();
  });

  it('answers a message posted to the gateway from the sessions process', async () => {
    const posted = await fetch(`${gateway.address}/api/workspaces/demo/sandbox/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: '15551230001', text: 'What are your opening hours?' }),
    });
    expect(posted.status).toBe(202);

    let replies: { text?: string }[] = [];
    for (let attempt = 0; attempt < 100 && replies.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const outbox = await fetch(`${gateway.address}/api/workspaces/demo/sandbox/outbox`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      replies = ((await outbox.json()) as { messages: { text?: string }[] }).messages;
    }
    expect(replies[0]?.text).toMatch(/Monday to Friday/);

    // The session lives in the sessions process; the gateway hosts none.
    expect(await metric(sessions.address, 'botrelic_live_actors')).toBe(1);
    expect(await metric(gateway.address, 'botrelic_live_actors')).toBe(0);
    expect(gateway.logs.find((entry) => entry.msg === 'botrelic is serving')).toMatchObject({
      role: 'gateway',
    });
  });

  it('keeps webhooks, APIs and pages on the gateway: the sessions process serves probes and metrics only', async () => {
    expect((await fetch(`${sessions.address}/readyz`)).status).toBe(200);
    for (const path of ['/webhooks/whatsapp', '/api/inbox', '/inbox']) {
      expect((await fetch(`${sessions.address}${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${gateway.address}/inbox`)).status).toBe(200);
  });

  it('refuses a split role without Postgres and NATS, naming what is missing', async () => {
    const { code, stderr } = await runCli(['serve'], { BOTRELIC_ROLE: 'gateway' });
    expect(code).toBe(2);
    expect(stderr).toContain('BOTRELIC_ROLE: gateway needs DATABASE_URL and NATS_URL');
  });
});
