import { type Kysely, sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SessionCommand } from '../../src/actors/actor-host.ts';
import type { SessionClient } from '../../src/actors/session-client.ts';
import { type Clock, systemClock } from '../../src/clock/clock.ts';
import { ManualClock } from '../../src/clock/manual-clock.ts';
import { botrelicConfigSchema } from '../../src/config/workspace-config.ts';
import { SERVICE_WINDOW_MS } from '../../src/machines/session.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createFailureNoticeStore } from '../../src/persistence/failure-notices.ts';
import { createOutboxStore, type OutboxStore } from '../../src/persistence/outbox-store.ts';
import type { Database } from '../../src/persistence/schema.ts';
import type { SessionAddress } from '../../src/persistence/session-store.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';
import { createDeliveryPacing } from '../../src/whatsapp/delivery-pacing.ts';
import { FailureNotifier } from '../../src/whatsapp/failure-notifier.ts';
import { createGraphApiClient, type GraphApiClient } from '../../src/whatsapp/graph-api-client.ts';
import { createOutboxMetrics } from '../../src/whatsapp/outbox-metrics.ts';
import { OutboxSender, type OutboxSenderOptions } from '../../src/whatsapp/outbox-sender.ts';
import { createSandboxReceipts } from '../../src/whatsapp/sandbox-receipts.ts';
import { createSendingNumbers } from '../../src/whatsapp/sending-numbers.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import {
  type FakeGraphApi,
  META_ERRORS,
  type MetaFailure,
  startFakeGraphApi,
} from '../support/fake-graph-api.ts';
import { type SeededMessage, seedConversation } from '../support/outbox-seed.ts';

const PRODUCTION = '109999999999991';
const SANDBOX = '106540352242922';
const TOKEN = 'EAAGproductionTokenThatIsNeverLogged';
const T0 = Date.UTC(2026, 0, 1);
const LEASE = 30_000;

const config = botrelicConfigSchema.parse({
  workspaces: [
    {
      id: 'acme',
      name: 'Acme Store',
      phoneNumbers: [
        { phoneNumberId: PRODUCTION, mode: 'production', accessToken: TOKEN },
        { phoneNumberId: SANDBOX, mode: 'sandbox' },
      ],
    },
  ],
});

let database: TestDatabase;
let db: Kysely<Database>;
let fake: FakeGraphApi;
let clock: ManualClock;
let senders: OutboxSender[];
/** Each sender's failure notifier: the real one, telling the recording sessions below. */
let notifiers: FailureNotifier[];
let customer = 4_470_000_000;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await syncWorkspaces(db, config);
});

afterAll(async () => {
  await database?.close();
});

beforeEach(async () => {
  await sql`truncate outbox, messages, sessions restart identity cascade`.execute(db);
  fake = await startFakeGraphApi({ accessToken: TOKEN });
  clock = new ManualClock(T0);
  senders = [];
  notifiers = [];
});

afterEach(async () => {
  await Promise.all(senders.map((sender) => sender.stop()));
  await Promise.all(notifiers.map((notifier) => notifier.stop()));
  await fake.close();
});

/** The session side of a failure report: what the sender's failure notices told which session. */
class RecordingSessions implements Pick<SessionClient, 'command'> {
  readonly commands: { address: SessionAddress; command: SessionCommand }[] = [];
  async command(address: SessionAddress, command: SessionCommand) {
    this.commands.push({ address, command });
    return { ok: true as const, sessionId: command.sessionId ?? '', state: 'active', version: 2 };
  }
}

interface Harness {
  sender: OutboxSender;
  sessions: RecordingSessions;
  registry: Registry;
}

function startSender(
  overrides: Partial<OutboxSenderOptions> & {
    clock?: Clock;
    phoneNumberRate?: number;
    recipientRate?: { ratePerSecond: number; burst: number };
    receiptDelayMs?: number;
    holdInMemoryMs?: number;
  } = {},
): Harness {
  const registry = new Registry();
  const sessions = new RecordingSessions();
  const senderClock = overrides.clock ?? clock;
  const logger = createLogger({ level: 'silent' });
  const notifier = new FailureNotifier({
    store: createFailureNoticeStore(db),
    sessions,
    clock: senderClock,
    logger,
    pollIntervalMs: 1_000,
  });
  notifiers.push(notifier);
  notifier.start();
  const sender = new OutboxSender({
    store: createOutboxStore(db, { onFailureNotices: () => notifier.wake() }),
    graph: createGraphApiClient({ baseUrl: fake.url }),
    numbers: createSendingNumbers(config),
    pacing: createDeliveryPacing({
      clock: senderClock,
      phoneNumber: { ratePerSecond: overrides.phoneNumberRate ?? 80, burst: 1 },
      recipient: overrides.recipientRate ?? { ratePerSecond: 1_000, burst: 1_000 },
      forgetAfterMs: LEASE,
    }),
    clock: senderClock,
    logger,
    metrics: createOutboxMetrics(registry),
    receipts:
      overrides.receiptDelayMs === undefined
        ? undefined
        : createSandboxReceipts({ db, clock: senderClock, logger, delayMs: overrides.receiptDelayMs }),
    pollIntervalMs: 1_000,
    maxAttempts: 5,
    leaseMs: LEASE,
    // Full jitter pinned to the middle: the first retry waits 500 ms, the second 1000 ms, ...
    backoff: { baseMs: 1_000, maxMs: 60_000, random: () => 0.5 },
    ...overrides,
  });
  senders.push(sender);
  sender.start();
  return { sender, sessions, registry };
}

/** Moves the manual clock in small steps, settling after each, as time passes for a running sender. */
async function advance(sender: OutboxSender, ms: number, stepMs = 50): Promise<void> {
  await settle(sender);
  for (let left = ms; left > 0; left -= stepMs) {
    clock.advance(Math.min(stepMs, left));
    await settle(sender);
  }
}

/** The sender, then the notices its failures left. */
async function settle(sender: OutboxSender): Promise<void> {
  await sender.settle();
  await Promise.all(notifiers.map((notifier) => notifier.settle()));
}

function seed(
  messages: readonly SeededMessage[],
  options: { phoneNumberId?: string; customerWroteAt?: number | null; waId?: string; now?: number } = {},
) {
  const now = options.now ?? clock.now();
  return seedConversation(db, {
    workspaceId: 'acme',
    phoneNumberId: options.phoneNumberId ?? PRODUCTION,
    waId: options.waId ?? String(++customer),
    messages,
    customerWroteAt: options.customerWroteAt === undefined ? now - 60_000 : options.customerWroteAt,
    now,
  });
}

async function message(id: string) {
  return db
    .selectFrom('messages')
    .innerJoin('outbox', 'outbox.message_id', 'messages.id')
    .select([
      'messages.status',
      'messages.wamid',
      'messages.error_code',
      'messages.error_title',
      'outbox.status as outbox_status',
      'outbox.attempts',
      'outbox.next_attempt_at',
      'outbox.sent_at',
    ])
    .where('messages.id', '=', id)
    .executeTakeFirstOrThrow();
}

async function metric(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  const values = (found?.values ?? []) as {
    value: number;
    labels: Record<string, string | number>;
    metricName?: string;
  }[];
  return values
    .filter((value) => (value.metricName ?? name) === name || value.metricName === `${name}_count`)
    .filter((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted))
    .reduce((sum, value) => sum + value.value, 0);
}

const sentBodies = (waId: string) =>
  fake.messagesTo(waId).map((request) => (request.body!.text as { body: string }).body);

describe('production numbers', () => {
  it("posts the message to the number's messages endpoint with its token, stores Meta's wamid and marks it sent", async () => {
    const { messageIds, sessionKey } = await seed(['Your order ships tomorrow.']);
    const { sender, registry } = startSender();
    await sender.settle();

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.phoneNumberId).toBe(PRODUCTION);
    expect(request?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: sessionKey.split('-')[1],
      type: 'text',
      text: { body: 'Your order ships tomorrow.' },
    });
    const stored = await message(messageIds[0]!);
    expect(stored).toMatchObject({
      status: 'sent',
      outbox_status: 'sent',
      attempts: 1,
      sent_at: new Date(T0),
    });
    expect(stored.wamid).toMatch(/^wamid\.[A-Za-z0-9+/=]+$/);
    expect(await metric(registry, 'botrelic_outbox_sent_total', { mode: 'production' })).toBe(1);
    // The window between Meta's answer and the commit is measured for every send.
    expect(await metric(registry, 'botrelic_outbox_mark_sent_seconds')).toBe(1);
  });

  it('retries a 500 after its backoff and delivers the message once', async () => {
    const { messageIds } = await seed(['hello']);
    fake.failNext(1, META_ERRORS.somethingWentWrong);
    const { sender, registry } = startSender();
    await sender.settle();

    expect(fake.requests.map((request) => request.responseStatus)).toEqual([500]);
    expect(await message(messageIds[0]!)).toMatchObject({
      status: 'pending',
      wamid: null,
      outbox_status: 'pending',
      attempts: 1,
      next_attempt_at: new Date(T0 + 500),
    });
    await advance(sender, 499);
    expect(fake.requests).toHaveLength(1);
    await advance(sender, 1);
    expect(fake.requests.map((request) => request.responseStatus)).toEqual([500, 200]);
    expect(await message(messageIds[0]!)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(await metric(registry, 'botrelic_outbox_retried_total')).toBe(1);
  });

  it.each<[string, MetaFailure]>([
    ['HTTP 429', { status: 429, code: 130429, title: 'Rate limit hit' }],
    ["Meta's throughput limit 130429 (answered with 400)", META_ERRORS.throughput],
  ])('retries %s with growing backoff', async (_, failure) => {
    const { messageIds } = await seed(['hello']);
    fake.failNext(2, failure);
    const { sender } = startSender();
    await sender.settle();
    await advance(sender, 500);
    expect(fake.requests).toHaveLength(2);
    // The second retry waits twice as long.
    await advance(sender, 999);
    expect(fake.requests).toHaveLength(2);
    await advance(sender, 1);
    expect(fake.requests.map((request) => request.responseStatus)).toEqual([
      failure.status,
      failure.status,
      200,
    ]);
    expect(await message(messageIds[0]!)).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('waits at least what Retry-After asks for', async () => {
    await seed(['hello']);
    fake.failNext(1, { status: 429, code: 130429, title: 'Rate limit hit', retryAfterSeconds: 7 });
    const { sender } = startSender();
    await sender.settle();
    await advance(sender, 6_999);
    expect(fake.requests).toHaveLength(1);
    await advance(sender, 1);
    expect(fake.requests).toHaveLength(2);
  });

  it("fails a message Meta refuses (131026) with Meta's code and title, once, and tells its session", async () => {
    const { messageIds, sessionId, sessionKey, partition } = await seed(['hello']);
    fake.failNext(1, META_ERRORS.undeliverable);
    const { sender, sessions, registry } = startSender();
    await sender.settle();
    await advance(sender, 60_000);

    expect(fake.requests).toHaveLength(1);
    expect(await message(messageIds[0]!)).toMatchObject({
      status: 'failed',
      wamid: null,
      error_code: 131026,
      error_title: 'Message Undeliverable',
      outbox_status: 'failed',
      sent_at: null,
    });
    expect(sessions.commands).toEqual([
      {
        address: { workspaceId: 'acme', sessionKey, partition },
        command: {
          type: 'message.status',
          sessionId,
          wamid: messageIds[0],
          status: 'failed',
          error: { code: 131026, title: 'Message Undeliverable' },
        },
      },
    ]);
    expect(
      await metric(registry, 'botrelic_outbox_failed_total', { mode: 'production', code: '131026' }),
    ).toBe(1);
  });

  it('gives up after the last attempt with the last error', async () => {
    const { messageIds } = await seed(['hello']);
    fake.failNext(10, META_ERRORS.somethingWentWrong);
    const { sender, sessions } = startSender({ maxAttempts: 3 });
    await sender.settle();
    for (let i = 0; i < 10; i++) await advance(sender, 60_000);
    expect(fake.requests).toHaveLength(3);
    expect(await message(messageIds[0]!)).toMatchObject({
      status: 'failed',
      error_code: 131000,
      error_title: 'Something went wrong',
      attempts: 3,
    });
    expect(sessions.commands).toHaveLength(1);
  });

  it('refuses a free-form message outside the 24-hour window without calling Meta, and sends a template', async () => {
    const customerWroteAt = T0 - SERVICE_WINDOW_MS;
    const late = await seed(['Are you still there?'], { customerWroteAt });
    const template = await seed(
      [
        {
          template: {
            name: 'order_update',
            language: 'en_US',
            components: [{ type: 'body', parameters: [{ type: 'text', text: '#4512' }] }],
          },
        },
      ],
      { customerWroteAt },
    );
    const never = await seed(['Hello?'], { customerWroteAt: null });
    const justInside = await seed(['Still here!'], { customerWroteAt: customerWroteAt + 1_000 });
    const { sender, sessions } = startSender();
    // Long enough for the number's pacing (12.5 ms apart), far too short to close the window on the last one.
    await advance(sender, 50);

    for (const refused of [late, never]) {
      expect(await message(refused.messageIds[0]!)).toMatchObject({
        status: 'failed',
        error_code: 131047,
        error_title: 'Re-engagement message: outside the 24-hour customer service window; send a template',
      });
    }
    // Two customers' conversations are delivered side by side: their failures come back in either order.
    expect(sessions.commands).toHaveLength(2);
    expect(sessions.commands.map(({ command }) => command)).toEqual(
      expect.arrayContaining(
        [late, never].map(({ messageIds }) =>
          expect.objectContaining({ wamid: messageIds[0], error: expect.objectContaining({ code: 131047 }) }),
        ),
      ),
    );
    expect(fake.requests.map((request) => request.body?.to)).toEqual([
      template.sessionKey.split('-')[1],
      justInside.sessionKey.split('-')[1],
    ]);
    expect(fake.requests[0]?.body).toMatchObject({
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: '#4512' }] }],
      },
    });
    expect(await message(template.messageIds[0]!)).toMatchObject({ status: 'sent' });
    expect(await message(justInside.messageIds[0]!)).toMatchObject({ status: 'sent' });
  });
});

describe('logs', () => {
  it('never carry the access token, whatever Meta echoes back', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'trace',
      destination: { write: (line: string) => lines.push(line) },
    });
    await seed(['one']);
    await seed(['two']);
    fake.failNext(1, {
      ...META_ERRORS.invalidParameter,
      message: `(#100) Bad token ${TOKEN}`,
      details: TOKEN,
    });
    fake.failNext(1, { ...META_ERRORS.somethingWentWrong, message: `(#131000) ${TOKEN}` });
    const { sender } = startSender({ logger });
    await advance(sender, 2_000);
    expect(lines.join('\n')).toContain('outbound message failed');
    expect(lines.join('\n')).toContain('retrying');
    expect(lines.join('\n')).not.toContain(TOKEN);
  });
});

describe('sandbox numbers', () => {
  it('never call the Graph API: the message is sent into the sandbox outbox, then delivered and read', async () => {
    const { messageIds } = await seed(['hello', 'again'], { phoneNumberId: SANDBOX });
    const outside = await seed(['too late'], {
      phoneNumberId: SANDBOX,
      customerWroteAt: T0 - SERVICE_WINDOW_MS,
    });
    const { sender, registry } = startSender({ receiptDelayMs: 1_000 });
    await sender.settle();

    expect(fake.requests).toEqual([]);
    for (const id of messageIds) {
      const stored = await message(id);
      expect(stored).toMatchObject({ status: 'sent', outbox_status: 'sent', sent_at: new Date(T0) });
      expect(stored.wamid).toMatch(/^wamid\.sandbox\.[0-9a-f-]{36}$/);
    }
    // The sandbox plays Meta faithfully: the window holds there too.
    expect(await message(outside.messageIds[0]!)).toMatchObject({ status: 'failed', error_code: 131047 });
    expect(await metric(registry, 'botrelic_outbox_sent_total', { mode: 'sandbox' })).toBe(2);

    await advance(sender, 1_000);
    expect(await message(messageIds[0]!)).toMatchObject({ status: 'delivered' });
    await advance(sender, 1_000);
    expect(await message(messageIds[0]!)).toMatchObject({ status: 'read' });
    expect(fake.requests).toEqual([]);
  });
});

describe('pacing', () => {
  it('holds 200 messages from one number to 80 per second without dropping any', async () => {
    const waIds = Array.from({ length: 200 }, () => String(++customer));
    for (const waId of waIds) await seed([`to ${waId}`], { waId });
    const { sender, registry } = startSender({ phoneNumberRate: 80 });
    const arrivals: number[] = [];
    let seen = 0;
    await sender.settle();
    for (let step = 0; step < 1_000 && seen < 200; step++) {
      for (; seen < fake.requests.length; seen++) arrivals.push(clock.now() - T0);
      await advance(sender, 5);
    }
    for (; seen < fake.requests.length; seen++) arrivals.push(clock.now() - T0);

    expect(arrivals).toHaveLength(200);
    expect(new Set(fake.requests.map((request) => request.body?.to))).toEqual(new Set(waIds));
    // 12.5 ms apart: the last of 200 leaves 199 intervals after the first.
    expect(arrivals.at(-1)).toBeGreaterThanOrEqual(2_485);
    // No second carries more than 80 (+1 for the slot on its edge).
    for (const start of arrivals) {
      expect(arrivals.filter((at) => at >= start && at < start + 1_000).length).toBeLessThanOrEqual(81);
    }
    expect(await metric(registry, 'botrelic_outbox_sent_total')).toBe(200);
    expect(await metric(registry, 'botrelic_outbox_paced_total', { limit: 'phone_number' })).toBeGreaterThan(
      0,
    );
  });

  it('holds to the rate on the real clock too', async () => {
    const waIds = Array.from({ length: 200 }, () => String(++customer));
    for (const waId of waIds) await seed([`to ${waId}`], { waId, now: Date.now() });
    const started = Date.now();
    startSender({ phoneNumberRate: 80, clock: systemClock, pollIntervalMs: 50 });
    await fake.waitForRequests(200, 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_400);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.requests).toHaveLength(200);
    expect(new Set(fake.requests.map((request) => request.body?.to)).size).toBe(200);
  });

  it('holds to the rate when it waits short slots out in memory', async () => {
    const waIds = Array.from({ length: 100 }, () => String(++customer));
    for (const waId of waIds) await seed([`to ${waId}`], { waId, now: Date.now() });
    const started = Date.now();
    startSender({ phoneNumberRate: 80, clock: systemClock, pollIntervalMs: 50, holdInMemoryMs: 20 });
    await fake.waitForRequests(100, 10_000);
    // 12.5 ms apart: the last of 100 leaves 99 intervals after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_230);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.requests).toHaveLength(100);
    expect(new Set(fake.requests.map((request) => request.body?.to)).size).toBe(100);
  });

  it("keeps a customer's messages in order, paced by the pair rate, behind a retried one", async () => {
    const waId = String(++customer);
    await seed(['1', '2', '3', '4', '5'], { waId });
    fake.failNext(1, META_ERRORS.somethingWentWrong);
    const { sender } = startSender({ recipientRate: { ratePerSecond: 1 / 6, burst: 3 } });
    await sender.settle();
    // The first failed: nothing behind it may overtake it.
    expect(fake.requests).toHaveLength(1);
    await advance(sender, 550);
    // The retry took a pair slot of its own: 1 and 2 fill the burst of 3, and 3 waits for the next slot at 6 s.
    expect(sentBodies(waId)).toEqual(['1', '2']);
    await advance(sender, 5_400);
    expect(sentBodies(waId)).toEqual(['1', '2']);
    await advance(sender, 100);
    expect(sentBodies(waId)).toEqual(['1', '2', '3']);
    await advance(sender, 12_000);
    expect(sentBodies(waId)).toEqual(['1', '2', '3', '4', '5']);
  });
});

describe('the duplicate window', () => {
  /** A store whose process "dies" at the first `markSent`: the commit never happens. */
  function crashingOnMark(store: OutboxStore): OutboxStore {
    let crashed = false;
    return {
      ...store,
      markSent: async (...args) => {
        if (crashed) return store.markSent(...args);
        crashed = true;
        throw new Error('process killed between the Graph call and the commit');
      },
    };
  }

  /** A Graph client whose process "dies" after the claim, before the request leaves. */
  function crashingBeforeCall(graph: GraphApiClient): GraphApiClient {
    return {
      ...graph,
      sendMessage: async () => {
        throw new Error('process killed before the Graph call');
      },
    };
  }

  it('a crash after Meta answered and before the commit sends the message exactly once more', async () => {
    const { messageIds, sessionKey } = await seed(['hello']);
    const waId = sessionKey.split('-')[1]!;
    const first = startSender({ store: crashingOnMark(createOutboxStore(db)) });
    await first.sender.settle();
    await first.sender.stop();
    expect(fake.messagesTo(waId)).toHaveLength(1);
    expect(await message(messageIds[0]!)).toMatchObject({ status: 'pending', wamid: null });

    // The restarted process finds the row leased until the lease lapses.
    const restarted = startSender();
    await advance(restarted.sender, LEASE - 50);
    expect(fake.messagesTo(waId)).toHaveLength(1);
    // The next poll after the lease lapsed.
    await advance(restarted.sender, 1_050);

    const duplicates = fake.messagesTo(waId);
    expect(duplicates).toHaveLength(2);
    expect(duplicates[1]?.body).toEqual(duplicates[0]?.body);
    expect(await message(messageIds[0]!)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('a crash after the claim and before the Graph call sends the message exactly once', async () => {
    const { messageIds, sessionKey } = await seed(['hello']);
    const waId = sessionKey.split('-')[1]!;
    const first = startSender({ graph: crashingBeforeCall(createGraphApiClient({ baseUrl: fake.url })) });
    await first.sender.settle();
    await first.sender.stop();

    const restarted = startSender();
    await advance(restarted.sender, LEASE + 1_000);
    expect(fake.messagesTo(waId)).toHaveLength(1);
    expect(await message(messageIds[0]!)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('abandons a message whose every attempt ended in a crash', async () => {
    const { messageIds } = await seed(['hello']);
    const graph = crashingBeforeCall(createGraphApiClient({ baseUrl: fake.url }));
    const { sender, sessions } = startSender({ graph, maxAttempts: 2 });
    await advance(sender, 2 * (LEASE + 1_000), 500);
    expect(await message(messageIds[0]!)).toMatchObject({
      status: 'failed',
      error_code: null,
      error_title: 'Delivery abandoned: 2 attempts did not complete',
    });
    expect(sessions.commands).toHaveLength(1);
  });
});

describe('stopping', () => {
  it('waits for the sends in flight and records their outcome', async () => {
    const { messageIds } = await seed(['hello']);
    fake.delayNext(300);
    const { sender } = startSender();
    await fake.waitForRequests(1);
    await sender.stop();
    expect(await message(messageIds[0]!)).toMatchObject({ status: 'sent' });
  });

  it('gives a row waiting in memory for its pacing slot back to the table, rather than waiting on the clock', async () => {
    const first = await seed(['one']);
    const second = await seed(['two']);
    // 80/s: the second send is due 12.5 ms after the first, within the 50 ms held in memory; the clock stays.
    const { sender } = startSender({ holdInMemoryMs: 50 });
    await fake.waitForRequests(1);
    await sender.stop();
    expect(await message(first.messageIds[0]!)).toMatchObject({ status: 'sent' });
    expect(await message(second.messageIds[0]!)).toMatchObject({
      status: 'pending',
      outbox_status: 'pending',
      attempts: 0,
    });
    // The next sender finds it at its first poll.
    const restarted = startSender();
    await advance(restarted.sender, 1_100);
    expect(await message(second.messageIds[0]!)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('takes no new rows once stopped', async () => {
    const { sender } = startSender();
    await sender.stop();
    await seed(['hello']);
    sender.wake();
    await advance(sender, 60_000);
    expect(fake.requests).toEqual([]);
  });
});
