import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { ManualClock } from '../../src/clock/manual-clock.ts';
import { SESSION_MACHINE_VERSION, type SessionContext, sessionMachine } from '../../src/machines/session.ts';
import { migrateSessionSnapshot, UnknownMachineVersionError } from '../../src/machines/session-snapshot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestEngine, type TestEngine } from '../support/engine.ts';
import { connectTestTransport, type TestTransport } from '../support/services.ts';

/**
 * Deploys keep sessions: snapshots persisted by every machine version that ever shipped are kept in
 * test/fixtures/snapshots/ (v<version>-<state>.json, never edited) and must still load and go on.
 */
const FIXTURES = new URL('../fixtures/snapshots/', import.meta.url);

interface SnapshotFixture {
  machineVersion: number;
  state: string;
  snapshot: { value: string; context: SessionContext };
}

const fixtures = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({
    name,
    ...(JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as SnapshotFixture),
  }));

describe('persisted snapshots of older machine versions', () => {
  let database: TestDatabase;
  let transport: TestTransport;
  let harness: TestEngine;

  beforeAll(async () => {
    database = await createTestDatabase();
    transport = await connectTestTransport();
    // The fixtures were written on 2026-11-20 at 09:00 UTC; resume ten minutes later.
    harness = await startTestEngine({
      database,
      transport: transport.transport,
      clock: new ManualClock(Date.UTC(2026, 10, 20, 9, 10)),
    });
  });

  afterAll(async () => {
    await harness?.stop();
    await transport?.close();
    await database?.close();
  });

  it('has a fixture for every state of every released version', () => {
    for (let version = 1; version <= SESSION_MACHINE_VERSION; version++) {
      for (const state of Object.keys(sessionMachine.root.states)) {
        expect(
          fixtures.some((f) => f.machineVersion === version && f.state === state),
          `v${version} ${state}`,
        ).toBe(true);
      }
    }
  });

  it.each(fixtures)('$name restores into the current machine in the state it was saved in', (fixture) => {
    const snapshot = migrateSessionSnapshot(fixture.snapshot, fixture.machineVersion);
    const actor = createActor(sessionMachine, { snapshot: snapshot as never, input: undefined as never });
    actor.start();
    expect(actor.getSnapshot().value).toBe(fixture.state);
    expect(actor.getSnapshot().context.history.length).toBe(fixture.snapshot.context.history.length);
    actor.stop();
  });

  it('keeps the evidence a version 2 answer was recorded with', () => {
    const fixture = fixtures.find((f) => f.name === 'v2-active.json')!;
    const answer = fixture.snapshot.context.history.find((entry) => entry.kind === 'ai');
    expect(answer?.evidence).toMatchObject({ rule: 'answered', threshold: 0.55 });
    const actor = createActor(sessionMachine, {
      snapshot: migrateSessionSnapshot(fixture.snapshot, fixture.machineVersion) as never,
      input: undefined as never,
    });
    actor.start();
    expect(actor.getSnapshot().context.history.find((entry) => entry.kind === 'ai')).toEqual(answer);
    actor.stop();
  });

  /** Stores a fixture as the open session of a fresh customer, as an older deploy would have left it. */
  async function storeFixture(name: string, waId: string) {
    const fixture = fixtures.find((f) => f.name === name)!;
    const sessionId = `fixture-${waId}`;
    // The ids recur inside the snapshot (e.g. the AI call's input), so rename them everywhere.
    const snapshot = JSON.parse(
      JSON.stringify(fixture.snapshot)
        .replaceAll(fixture.snapshot.context.sessionId, sessionId)
        .replaceAll(fixture.snapshot.context.customer.waId, waId),
    ) as SnapshotFixture['snapshot'];
    const address = harness.engine.sessions.addressOf('acme', snapshot.context.phoneNumberId, waId);
    const at = new Date(harness.clock.now() - 60_000);
    await database.db
      .insertInto('sessions')
      .values({
        id: sessionId,
        workspace_id: 'acme',
        session_key: address.sessionKey,
        partition: address.partition,
        phone_number_id: snapshot.context.phoneNumberId,
        customer_wa_id: waId,
        state: fixture.state,
        snapshot: JSON.stringify(snapshot),
        machine_version: fixture.machineVersion,
        version: 7,
        next_deadline_at: snapshot.context.timer ? new Date(snapshot.context.timer.at) : null,
        created_at: at,
        updated_at: at,
        closed_at: null,
      })
      .execute();
    return address;
  }

  async function stored(address: { sessionKey: string }) {
    return database.db
      .selectFrom('sessions')
      .selectAll()
      .where('workspace_id', '=', 'acme')
      .where('session_key', '=', address.sessionKey)
      .executeTakeFirstOrThrow();
  }

  const versions = Array.from({ length: SESSION_MACHINE_VERSION }, (_, index) => index + 1);

  describe.each(versions)('of version %i, stored and resumed by the host', (version) => {
    const waId = (n: number) => `1650555${version}00${n}`;

    it('goes on from an `active` snapshot: the next customer message gets an AI answer', async () => {
      const address = await storeFixture(`v${version}-active.json`, waId(1));
      await harness.customerSays('acme', '106540352242922', waId(1), 'And on Saturdays?');
      await harness.agent.reply('On Saturdays we open 9:00 to 14:00.');
      await harness.settle();
      const row = await stored(address);
      expect(row.state).toBe('active');
      expect(row.version).toBe(9);
      const history = (row.snapshot as { context: SessionContext }).context.history;
      expect(history.map((entry) => entry.kind)).toEqual(['customer', 'ai', 'customer', 'ai']);
      expect(history.every((entry) => entry.kind !== 'customer' || entry.sentAt !== undefined)).toBe(true);
    });

    it('goes on from an `ai_responding` snapshot: the AI call is made again when the session wakes', async () => {
      const address = await storeFixture(`v${version}-ai_responding.json`, waId(2));
      await harness.engine.host.wake(address);
      const request = await harness.agent.reply('We open at 8:00.');
      expect(request.unanswered.map((message) => message.text)).toEqual(['Hi! What are your opening hours?']);
      expect(request.history).toMatchObject([{ kind: 'customer', sentAt: 1795165200500 }]);
      await harness.settle();
      expect((await stored(address)).state).toBe('active');
    });

    it('goes on from `fallback` and `human` snapshots: takeover, then the assigned agent replies', async () => {
      const waiting = await storeFixture(`v${version}-fallback.json`, waId(3));
      expect(
        await harness.engine.sessions.command(waiting, { type: 'agent.takeover', agentId: 'alice' }),
      ).toMatchObject({
        ok: true,
        state: 'human',
      });
      const owned = await storeFixture(`v${version}-human.json`, waId(4));
      expect(
        await harness.engine.sessions.command(owned, {
          type: 'agent.message',
          agentId: 'alice',
          text: 'Anything else?',
        }),
      ).toMatchObject({ ok: true, state: 'human' });
    });
  });

  it('refuses a snapshot from a newer machine version, naming it', () => {
    const newer = SESSION_MACHINE_VERSION + 1;
    expect(() => migrateSessionSnapshot({}, newer)).toThrow(UnknownMachineVersionError);
    expect(() => migrateSessionSnapshot({}, newer)).toThrow(new RegExp(`machine version ${newer}`));
  });
});

describe('the upgrade from version 1', () => {
  const v1 = (state: string) => fixtures.find((f) => f.name === `v1-${state}.json`)!.snapshot;

  it('gives customer entries Meta’s timestamp: the queued message’s, else when it was applied', () => {
    const snapshot = v1('ai_responding');
    const upgraded = migrateSessionSnapshot(snapshot, 1) as typeof snapshot & {
      children: { generateReply: { snapshot: { input: { history: unknown[] } } } };
    };
    expect(upgraded.context.history).toMatchObject([{ kind: 'customer', sentAt: 1795165200500 }]);
    expect(upgraded.children.generateReply.snapshot.input.history).toEqual(upgraded.context.history);
    const answered = migrateSessionSnapshot(v1('active'), 1) as typeof snapshot;
    expect(answered.context.history[0]).toMatchObject({ kind: 'customer', sentAt: 1795165201000 });
  });

  it('sends no closed message, and leaves nothing queued for the AI while a person has the session', () => {
    const human = v1('human');
    const queued = { wamid: 'w', type: 'text', text: 'is the agent there?', sentAt: 1795165400000 };
    const upgraded = migrateSessionSnapshot(
      { ...human, context: { ...human.context, unanswered: [queued] } },
      1,
    ) as typeof human;
    expect(upgraded.context.settings.closedMessage).toBeNull();
    expect(upgraded.context.unanswered).toEqual([]);
    // The fixture itself is never changed by an upgrade.
    expect(human.context.settings).not.toHaveProperty('closedMessage');
  });
});
