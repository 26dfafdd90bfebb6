import { type Kysely, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SessionCommand } from '../../src/actors/actor-host.ts';
import type { SessionClient } from '../../src/actors/session-client.ts';
import type { RoutedCommandResult } from '../../src/actors/session-router.ts';
import { ManualClock } from '../../src/clock/manual-clock.ts';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createFailureNoticeStore } from '../../src/persistence/failure-notices.ts';
import { advanceMessageStatus } from '../../src/persistence/message-status.ts';
import type { Database } from '../../src/persistence/schema.ts';
import type { SessionAddress } from '../../src/persistence/session-store.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';
import { FailureNotifier } from '../../src/whatsapp/failure-notifier.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { seedConversation } from '../support/outbox-seed.ts';

/**
 * The notifier against the real notice store: what it tells sessions, and when it tries again. The sessions
 * are scripted (the actor host's answers are covered end to end in test/gateway/webhook-restart.test.ts).
 */
const NUMBER = '106540352242922';
const T0 = Date.UTC(2026, 0, 1);
const DAY = 24 * 60 * 60 * 1_000;

let database: TestDatabase;
let db: Kysely<Database>;
let clock: ManualClock;
let notifiers: FailureNotifier[];
let customer = 4_471_000_000;

/** Sessions that answer as the test scripts them (after the script, `ok`), recording what they were told. */
class ScriptedSessions implements Pick<SessionClient, 'command'> {
  readonly told: { address: SessionAddress; command: SessionCommand }[] = [];
  readonly answers: (RoutedCommandResult | Error)[] = [];
  /** The answer once `answers` ran out; `ok` when unset. */
  otherwise: RoutedCommandResult | undefined;
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;

  hold(): void {
    this.#held = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  release(): void {
    this.#release?.();
    this.#held = undefined;
  }

  async command(address: SessionAddress, command: SessionCommand): Promise<RoutedCommandResult> {
    this.told.push({ address, command });
    await this.#held;
    const answer = this.answers.shift() ??
      this.otherwise ?? { ok: true, sessionId: command.sessionId ?? '', state: 'active', version: 2 };
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await syncWorkspaces(
    db,
    botrelicConfigSchema.parse({
      workspaces: [{ id: 'acme', name: 'Acme', phoneNumbers: [{ phoneNumberId: NUMBER, mode: 'sandbox' }] }],
    }),
  );
});

afterAll(async () => {
  await database?.close();
});

beforeEach(async () => {
  await sql`truncate outbox, messages, sessions restart identity cascade`.execute(db);
  clock = new ManualClock(T0);
  notifiers = [];
});

afterEach(async () => {
  await Promise.all(notifiers.map((notifier) => notifier.stop()));
});

function startNotifier(sessions: ScriptedSessions): FailureNotifier {
  const notifier = new FailureNotifier({
    store: createFailureNoticeStore(db),
    sessions,
    clock,
    logger: createLogger({ level: 'silent' }),
    pollIntervalMs: 1_000,
  });
  notifiers.push(notifier);
  notifier.start();
  return notifier;
}

/** A reply Meta reported failed: the message row fails and its session gets a notice, in one statement. */
async function failedReply() {
  const { sessionId, sessionKey, partition, messageIds } = await seedConversation(db, {
    workspaceId: 'acme',
    phoneNumberId: NUMBER,
    waId: String(++customer),
    messages: ['hello'],
    customerWroteAt: T0,
    now: T0,
  });
  const wamid = `wamid.reply-${customer}`;
  await db.updateTable('messages').set({ wamid, status: 'sent' }).where('id', '=', messageIds[0]!).execute();
  const outcome = await advanceMessageStatus(db, {
    workspaceId: 'acme',
    wamid,
    status: 'failed',
    error: { code: 131026, title: 'Message Undeliverable' },
    receivedAt: clock.now(),
  });
  expect(outcome).toBe('advanced');
  return { address: { workspaceId: 'acme', sessionKey, partition }, sessionId, wamid };
}

const remaining = async () =>
  db.selectFrom('failure_notices').select(['message_id', 'attempts', 'next_attempt_at']).execute();

async function advance(ms: number, stepMs = 500): Promise<void> {
  for (let left = ms; left > 0; left -= stepMs) {
    clock.advance(Math.min(stepMs, left));
    await Promise.all(notifiers.map((notifier) => notifier.settle()));
  }
}

describe('FailureNotifier', () => {
  it('tells the session that sent the message, with Meta’s error, and then forgets the notice', async () => {
    const { address, sessionId, wamid } = await failedReply();
    const sessions = new ScriptedSessions();
    await startNotifier(sessions).settle();
    expect(sessions.told).toEqual([
      {
        address,
        command: {
          type: 'message.status',
          sessionId,
          wamid,
          status: 'failed',
          error: { code: 131026, title: 'Message Undeliverable' },
        },
      },
    ]);
    expect(await remaining()).toEqual([]);
  });

  it('tries an unreachable session again with backoff, keeping the notice until it answers', async () => {
    await failedReply();
    const sessions = new ScriptedSessions();
    sessions.answers.push({ ok: false, error: 'unavailable' }, new Error('transport closed'));
    await startNotifier(sessions).settle();
    expect(sessions.told).toHaveLength(1);
    expect(await remaining()).toEqual([expect.objectContaining({ attempts: 1 })]);
    // Backoff: at most a second after the first attempt, at most two after the second.
    await advance(1_000);
    expect(sessions.told).toHaveLength(2);
    expect(await remaining()).toEqual([expect.objectContaining({ attempts: 2 })]);
    await advance(3_000);
    expect(sessions.told).toHaveLength(3);
    expect(await remaining()).toEqual([]);
  });

  it('forgets the notice of a session that has closed or refuses it', async () => {
    await failedReply();
    await failedReply();
    const sessions = new ScriptedSessions();
    sessions.answers.push(
      { ok: false, error: 'not_found' },
      { ok: false, error: 'rejected', sessionId: 'x', state: 'closed' },
    );
    await startNotifier(sessions).settle();
    expect(sessions.told).toHaveLength(2);
    expect(await remaining()).toEqual([]);
  });

  it('gives up on a notice no session took within a day', async () => {
    await failedReply();
    const sessions = new ScriptedSessions();
    sessions.otherwise = { ok: false, error: 'unavailable' };
    await startNotifier(sessions).settle();
    await advance(DAY - 60_000, 60_000);
    expect(await remaining()).toHaveLength(1);
    // Its last try before the day was up may have been put off by up to the longest backoff, 5 minutes.
    await advance(7 * 60_000, 60_000);
    expect(await remaining()).toEqual([]);
    const told = sessions.told.length;
    await advance(10 * 60_000, 60_000);
    expect(sessions.told).toHaveLength(told);
  });

  it('lets one of two notifiers (two nodes) tell a notice while it holds the lease', async () => {
    await failedReply();
    const sessions = new ScriptedSessions();
    sessions.hold();
    const first = startNotifier(sessions);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = startNotifier(sessions);
    await second.settle();
    expect(sessions.told).toHaveLength(1);
    sessions.release();
    await first.settle();
    expect(sessions.told).toHaveLength(1);
    expect(await remaining()).toEqual([]);
  });
});
