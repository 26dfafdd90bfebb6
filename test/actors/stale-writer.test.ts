import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionContext } from '../../src/machines/session.ts';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { ACME_NUMBER } from '../support/test-config.ts';

/**
 * Two hosts on one database, as after a partition moved while the old owner still ran: each believes
 * it owns the session. Version-checked writes let exactly one win each race; the loser reloads the
 * fresher state and applies its event on top of it, never over it.
 */
async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('two hosts racing to write the same session', () => {
  let database: TestDatabase;
  let a: TestEngine;
  let b: TestEngine;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Separate transports: each host hears only what it is told, so the race is the test's to stage.
    a = await startTestEngine({ database, transport: createInProcessTransport() });
    b = await startTestEngine({ database, transport: createInProcessTransport(), clock: a.clock });
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await database?.close();
  });

  async function staleWrites(engine: TestEngine): Promise<number> {
    const metric = await engine.engine.registry.getSingleMetric('botrelic_stale_writes_total')!.get();
    return metric.values[0]?.value ?? 0;
  }

  async function storedSessions(sessionKey: string) {
    return database.db
      .selectFrom('sessions')
      .selectAll()
      .where('workspace_id', '=', 'acme')
      .where('session_key', '=', sessionKey)
      .execute();
  }

  it('lets one of two creators win and the loser apply nothing twice', async () => {
    await a.engine.sessions.recordInbound([
      {
        workspaceId: 'acme',
        phoneNumberId: ACME_NUMBER,
        customerWaId: '4400001',
        wamid: 'wamid.race-create',
        type: 'text',
        body: 'Where is my order?',
        customerName: null,
        payload: {},
        sentAt: a.clock.now(),
      },
    ]);
    const address = a.engine.sessions.addressOf('acme', ACME_NUMBER, '4400001');
    const staleBefore = (await staleWrites(a)) + (await staleWrites(b));

    await Promise.all([a.engine.host.deliverInbound(address), b.engine.host.deliverInbound(address)]);

    const sessions = await storedSessions(address.sessionKey);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.version).toBe(1);
    expect((await staleWrites(a)) + (await staleWrites(b)) - staleBefore).toBe(1);
    const applied = await database.db
      .selectFrom('messages')
      .select(['session_id', 'applied_at'])
      .where('workspace_id', '=', 'acme')
      .where('wamid', '=', 'wamid.race-create')
      .executeTakeFirstOrThrow();
    expect(applied.session_id).toBe(sessions[0]!.id);

    // The loser reloaded the winner's session, so both hosts may now be composing for it: answer every
    // AI call on both. Whichever reply commits first wins; the other is built on a stale version.
    await waitFor(() => a.agent.waiting + b.agent.waiting > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    while (a.agent.waiting + b.agent.waiting > 0) {
      const replies = [];
      if (a.agent.waiting > 0) replies.push(a.agent.reply('It ships tomorrow.'));
      if (b.agent.waiting > 0) replies.push(b.agent.reply('It ships tomorrow.'));
      await Promise.all(replies);
      await Promise.all([a.settle(), b.settle()]);
    }
    const [answered] = await storedSessions(address.sessionKey);
    expect(answered!.state).toBe('active');
    expect(answered!.version).toBe(2);
    const outbound = await database.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('workspace_id', '=', 'acme')
      .where('session_id', '=', sessions[0]!.id)
      .executeTakeFirstOrThrow();
    expect(Number(outbound.count)).toBe(1);
  });

  it('makes the loser of a command race retry from the fresher state', async () => {
    const address = await a.customerSays('acme', ACME_NUMBER, '4400002', 'I want a human');
    await a.agent.fallback('keyword');
    await a.settle();
    // Both hosts load the session at the same version (a refused command loads without writing).
    expect(await b.engine.host.command(address, { type: 'agent.release', agentId: 'nobody' })).toMatchObject({
      ok: false,
      error: 'rejected',
      state: 'fallback',
    });
    const [before] = await storedSessions(address.sessionKey);
    const staleBefore = await staleWrites(b);

    const takeover = await a.engine.host.command(address, { type: 'agent.takeover', agentId: 'alice' });
    expect(takeover).toMatchObject({ ok: true, state: 'human', version: before!.version + 1 });

    // b still holds the older version in memory: its write is refused, it reloads and applies on top.
    const close = await b.engine.host.command(address, { type: 'agent.close', agentId: 'alice' });
    expect(close).toMatchObject({ ok: true, state: 'closed', version: before!.version + 2 });
    expect((await staleWrites(b)) - staleBefore).toBe(1);

    const [after] = await storedSessions(address.sessionKey);
    const context = (after!.snapshot as { context: SessionContext }).context;
    expect(after!.state).toBe('closed');
    expect(context.handoff?.agentId).toBe('alice');
    expect(context.closedReason).toBe('agent');
  });

  it('refuses the loser a command the fresher state no longer allows', async () => {
    const address = await a.customerSays('acme', ACME_NUMBER, '4400003', 'human please');
    await a.agent.fallback('keyword');
    await a.settle();
    await b.engine.host.command(address, { type: 'agent.release', agentId: 'nobody' });

    expect(await a.engine.host.command(address, { type: 'agent.takeover', agentId: 'alice' })).toMatchObject({
      ok: true,
    });
    // b's stale view says "fallback, nobody assigned"; the fresh one says alice owns it.
    expect(await b.engine.host.command(address, { type: 'agent.takeover', agentId: 'bob' })).toMatchObject({
      ok: false,
      error: 'rejected',
      state: 'human',
    });
    const [after] = await storedSessions(address.sessionKey);
    expect((after!.snapshot as { context: SessionContext }).context.handoff?.agentId).toBe('alice');
  });
});
