import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storableText } from '../../src/gateway/storable-json.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';
import { statusRank } from '../../src/whatsapp/status-rank.ts';
import {
  MAX_ID_LENGTH,
  type ParsedWebhook,
  parseWebhookPayload,
} from '../../src/whatsapp/webhook-payload.ts';
import { signWebhookBody } from '../../src/whatsapp/webhook-signature.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { APP_SECRET, signedFixture } from '../support/meta-webhook.ts';
import { seedConversation } from '../support/outbox-seed.ts';
import { ACME_NUMBER, GLOBEX_NUMBER, testConfig } from '../support/test-config.ts';
import {
  META_FIXTURE_NAMES,
  metaFixture,
  metaFixtureBytes,
  pathsOf,
  REMOVE,
  withValueAt,
} from '../whatsapp/meta-fixtures.ts';

/**
 * Thousands of mutated and random bodies and signatures, thrown at the real gateway and database through
 * `app.inject()` (no sockets, for speed; the HTTP path itself is covered in webhook.test.ts). Whatever
 * arrives: never a 5xx while the database is up, never a partial write (rows appear only for a validly
 * signed, valid payload, and then every one of its routable messages and statuses), and the server keeps
 * answering. Statuses are checked against a model of what they do: move a known outbound message forward, or
 * be held (the highest per wamid) until one has it.
 */
const WORKSPACE_OF: Readonly<Record<string, string>> = { [ACME_NUMBER]: 'acme', [GLOBEX_NUMBER]: 'globex' };
const UNKNOWN_NUMBER = '100000000000001';

interface Attempt {
  body: Buffer;
  /** The bytes the fixture had before mutation: a signature of those is valid only if nothing changed. */
  original: Buffer;
  signature: 'valid' | 'uppercase' | 'original' | 'missing' | 'other-secret' | 'garbage' | 'truncated';
  contentType: string;
}

let database: TestDatabase;
let gateway: TestGateway;
/** (workspace, wamid) of every inbound row written so far: the database must hold exactly these. */
const recorded = new Set<string>();
let runs = 0;

const keyOf = (workspaceId: string, wamid: string) => `${workspaceId}\u0000${storableText(wamid)}`;

/** A status as stored: on an outbound message, or held in `unmatched_statuses`. */
interface StoredStatus {
  status: string;
  code: number | null;
}

/**
 * Outbound messages the statuses may name, sent before the run: `wamid.out-<workspace>-<n>`. Enough of them
 * that most are still moving forward (not yet `read`) late in the run.
 */
const OUTBOUND_PER_WORKSPACE = 100;
const REPLIES_PER_SESSION = 10;
const OUTBOUND_WAMIDS = ['acme', 'globex'].flatMap((workspaceId) =>
  Array.from({ length: OUTBOUND_PER_WORKSPACE }, (_, n) => ({
    workspaceId,
    wamid: `wamid.out-${workspaceId}-${n}`,
  })),
);
/** What the database must hold: each outbound message's status, and the statuses held for unknown wamids. */
const outbound = new Map<string, StoredStatus>();
const held = new Map<string, StoredStatus>();
const DELIVERY_STATUSES = new Set(['sent', 'delivered', 'read', 'failed']);

/** Applies a webhook's routable statuses to the model, as the gateway must: forward only, held when unknown. */
function applyStatuses(webhook: ParsedWebhook): void {
  for (const status of webhook.statuses) {
    const workspaceId = WORKSPACE_OF[status.phoneNumberId];
    if (!workspaceId || !DELIVERY_STATUSES.has(status.status)) continue;
    const key = keyOf(workspaceId, status.wamid);
    const code = status.errors[0]?.code ?? null;
    const message = outbound.get(key);
    if (message) {
      if (statusRank(status.status) > statusRank(message.status)) {
        outbound.set(key, { status: status.status, code: status.status === 'failed' ? code : message.code });
      }
      continue;
    }
    const before = held.get(key);
    if (!before || statusRank(status.status) > statusRank(before.status)) {
      held.set(key, { status: status.status, code });
    }
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

async function storedStatuses() {
  const { db } = gateway.database;
  const messages = await db
    .selectFrom('messages')
    .select(['workspace_id', 'wamid', 'status', 'error_code'])
    .where('direction', '=', 'out')
    .execute();
  const unmatched = await db
    .selectFrom('unmatched_statuses')
    .select(['workspace_id', 'wamid', 'status', 'error_code'])
    .execute();
  const byKey = (
    rows: { workspace_id: string; wamid: string | null; status: string; error_code: number | null }[],
  ) =>
    new Map(
      rows.map((row) => [keyOf(row.workspace_id, row.wamid!), { status: row.status, code: row.error_code }]),
    );
  return { outbound: byKey(messages), held: byKey(unmatched) };
}

function headersOf(attempt: Attempt): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': attempt.contentType };
  const valid = signWebhookBody(attempt.body, APP_SECRET);
  const signature = {
    valid,
    uppercase: `sha256=${valid.slice('sha256='.length).toUpperCase()}`,
    original: signWebhookBody(attempt.original, APP_SECRET),
    missing: undefined,
    'other-secret': signWebhookBody(attempt.body, 'not-the-app-secret'),
    garbage: 'sha256=not-hex-at-all',
    truncated: valid.slice(0, -2),
  }[attempt.signature];
  if (signature !== undefined) headers['x-hub-signature-256'] = signature;
  return headers;
}

function isValidlySigned(attempt: Attempt): boolean {
  return (
    attempt.signature === 'valid' ||
    attempt.signature === 'uppercase' ||
    (attempt.signature === 'original' && attempt.body.equals(attempt.original))
  );
}

/** What the parser makes of the body, or why it is refused. */
function readBody(body: Buffer): { json: 'malformed' } | { json: 'ok'; webhook?: ParsedWebhook } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { json: 'malformed' };
  }
  try {
    return { json: 'ok', webhook: parseWebhookPayload(value) };
  } catch {
    return { json: 'ok' };
  }
}

async function inboundCount(): Promise<number> {
  const row = await gateway.database.db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('direction', '=', 'in')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

async function check(attempt: Attempt): Promise<void> {
  runs++;
  const response = await gateway.engine.app.inject({
    method: 'POST',
    url: '/webhooks/whatsapp',
    headers: headersOf(attempt),
    payload: attempt.body,
  });
  const where = `status ${response.statusCode}: ${response.body.slice(0, 300)}`;
  expect(response.statusCode, where).toBeLessThan(500);
  const rows = await inboundCount();
  if (response.statusCode !== 200) {
    expect(rows, `refused (${where}) yet rows were written`).toBe(recorded.size);
    expect(await storedStatuses(), `refused (${where}) yet statuses were written`).toEqual({
      outbound,
      held,
    });
    if (!attempt.contentType.startsWith('application/json')) expect(response.statusCode, where).toBe(415);
    else if (!isValidlySigned(attempt)) expect(response.statusCode, where).toBe(401);
    return;
  }
  expect(isValidlySigned(attempt), where).toBe(true);
  const read = readBody(attempt.body);
  expect(read.json === 'ok' && read.webhook, `accepted a body the parser refuses (${where})`).toBeTruthy();
  const routable = (read as { webhook: ParsedWebhook }).webhook.messages.flatMap((message) => {
    const workspaceId = WORKSPACE_OF[message.phoneNumberId];
    return workspaceId ? [{ workspaceId, wamid: message.wamid }] : [];
  });
  for (const { workspaceId, wamid } of routable) recorded.add(keyOf(workspaceId, wamid));
  applyStatuses((read as { webhook: ParsedWebhook }).webhook);
  // Every routable message and status is there (new or deduplicated), and nothing else was written.
  expect(rows, where).toBe(recorded.size);
  expect(await storedStatuses(), where).toEqual({ outbound, held });
  if (routable.length > 0) {
    const stored = await gateway.database.db
      .selectFrom('messages')
      .select(['workspace_id', 'wamid'])
      .where('direction', '=', 'in')
      .where(
        'wamid',
        'in',
        routable.map(({ wamid }) => storableText(wamid)),
      )
      .execute();
    const present = new Set(stored.map((row) => keyOf(row.workspace_id, row.wamid!)));
    for (const { workspaceId, wamid } of routable)
      expect(present.has(keyOf(workspaceId, wamid)), where).toBe(true);
  }
}

const fixtureName = fc.constantFrom(...META_FIXTURE_NAMES);
const signatureKind = fc.constantFrom<Attempt['signature']>(
  'valid',
  'valid',
  'uppercase',
  'original',
  'missing',
  'other-secret',
  'garbage',
  'truncated',
);
const anyContentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
);

const byteFlips = fc
  .record({
    name: fixtureName,
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
  })
  .map(({ name, flips }) => {
    const original = metaFixtureBytes(name);
    const body = Buffer.from(original);
    for (const [at, byte] of flips) body[at % body.length] = byte;
    return { original, body };
  });

const truncation = fc.record({ name: fixtureName, keep: fc.nat() }).map(({ name, keep }) => {
  const original = metaFixtureBytes(name);
  return { original, body: original.subarray(0, keep % original.length) };
});

/** A field of a fixture removed, or replaced by a value of any JSON type. */
const fieldChange = fixtureName.chain((name) => {
  const value = metaFixture(name);
  const paths = pathsOf(value).filter((path) => path.length > 0);
  return fc
    .record({
      path: fc.constantFrom(...paths),
      replacement: fc.oneof(
        fc.constant(REMOVE),
        fc.jsonValue({ maxDepth: 3 }),
        fc.string({ unit: 'binary' }),
        fc.constantFrom(null, 0, -1, 1e308, true, '', [], {}),
      ),
    })
    .map(({ path, replacement }) => ({
      original: metaFixtureBytes(name),
      body: Buffer.from(JSON.stringify(withValueAt(value, path, replacement))),
    }));
});

const untouched = fixtureName.map((name) => ({
  original: metaFixtureBytes(name),
  body: metaFixtureBytes(name),
}));

const randomBody = fc
  .oneof(
    fc.json().map((text) => Buffer.from(text)),
    fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
    fc
      .record({
        object: fc.constant('whatsapp_business_account'),
        entry: fc.array(
          fc.record({
            changes: fc.array(
              fc.record({ field: fc.constantFrom('messages', 'statuses'), value: fc.jsonValue() }),
            ),
          }),
        ),
      })
      .map((value) => Buffer.from(JSON.stringify(value))),
  )
  .map((body) => ({ original: body, body }));

/** Any UTF-16 code unit, lone surrogates and U+0000 included: what a JSON string can carry. */
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
const anyText = fc.string({ unit: anyUnit });

/**
 * Ids around and far past the cap (MAX_ID_LENGTH), in any characters: past it, the index entry of a wamid of
 * multibyte text would outgrow what Postgres takes (about 2,700 bytes) and be refused on every redelivery.
 */
const longText = fc
  .integer({ min: MAX_ID_LENGTH - 16, max: 4_000 })
  .chain((length) => fc.string({ unit: anyUnit, minLength: length, maxLength: length }));
const longDigits = fc.integer({ min: 16, max: 4_000 }).map((length) => '9'.repeat(length));

/**
 * Meta's error codes are five or six digits; the database stores 32-bit integers. Any JSON number may arrive:
 * one the column cannot hold must be refused before anything of its request is written.
 */
const errorCode = fc.oneof(
  { arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), weight: 8 },
  { arbitrary: fc.constantFrom(131026, 131047, 0, -1, 2 ** 31 - 1, -(2 ** 31)), weight: 4 },
  { arbitrary: fc.constantFrom(1.5, 1e308, -1e308, 3_000_000_000, 2 ** 31, -(2 ** 31) - 1), weight: 1 },
  { arbitrary: fc.double(), weight: 1 },
);

const deliveryStatus = fc.constantFrom('sent', 'delivered', 'read', 'failed', 'deleted');

/** A status for the webhook's number about an id: a failure carries Meta's error. */
const statusAbout = (wamid: string, status: string, recipient: string, timestamp: number, code: number) => ({
  id: wamid,
  status,
  timestamp: String(timestamp),
  recipient_id: recipient,
  ...(status === 'failed' ? { errors: [{ code, title: 'Message Undeliverable' }] } : {}),
});

/**
 * Well-formed webhooks with fresh ids, for known and unknown numbers, mixing messages with statuses about
 * those ids and about outbound messages (of either workspace), failures with any error code: the ones that
 * must be written whole, or refused with nothing written.
 */
const freshWebhook = fc
  .array(
    fc.record({
      phoneNumberId: fc.constantFrom(ACME_NUMBER, GLOBEX_NUMBER, UNKNOWN_NUMBER),
      from: fc.oneof(
        { arbitrary: fc.stringMatching(/^\d{6,15}$/), weight: 36 },
        { arbitrary: anyText, weight: 3 },
        { arbitrary: longDigits, weight: 1 },
      ),
      wamid: fc.oneof(
        { arbitrary: fc.uuid().map((id) => `wamid.${id}`), weight: 12 },
        { arbitrary: anyText.map((text) => `wamid.${text}`), weight: 6 },
        { arbitrary: longText.map((text) => `wamid.${text}`), weight: 1 },
      ),
      text: anyText,
      timestamp: fc.integer({ min: 0, max: 2_000_000_000 }),
      // A status about the same id too: no outbound message has it, so it is held (an indexed table as well).
      status: fc.option(deliveryStatus, { nil: undefined }),
      code: errorCode,
      // And one about an outbound message, sent to this number: another workspace's is held, not applied.
      reply: fc.option(
        fc.record({ index: fc.nat(OUTBOUND_WAMIDS.length - 1), status: deliveryStatus, code: errorCode }),
        { nil: undefined },
      ),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((messages) => {
    const numbers = [...new Set(messages.map((message) => message.phoneNumberId))];
    const webhook = {
      object: 'whatsapp_business_account',
      entry: numbers.map((phoneNumberId) => ({
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              messages: messages
                .filter((message) => message.phoneNumberId === phoneNumberId)
                .map((message) => ({
                  from: message.from,
                  id: message.wamid,
                  timestamp: String(message.timestamp),
                  type: 'text',
                  text: { body: message.text },
                })),
              statuses: messages
                .filter((message) => message.phoneNumberId === phoneNumberId)
                .flatMap((message) => [
                  ...(message.status === undefined
                    ? []
                    : [
                        statusAbout(
                          message.wamid,
                          message.status,
                          message.from,
                          message.timestamp,
                          message.code,
                        ),
                      ]),
                  ...(message.reply === undefined
                    ? []
                    : [
                        statusAbout(
                          OUTBOUND_WAMIDS[message.reply.index]!.wamid,
                          message.reply.status,
                          message.from,
                          message.timestamp,
                          message.reply.code,
                        ),
                      ]),
                ]),
            },
          },
        ],
      })),
    };
    const body = Buffer.from(JSON.stringify(webhook));
    return { original: body, body };
  });

function attempts(
  bodies: fc.Arbitrary<{ original: Buffer; body: Buffer }>,
  signatures = signatureKind,
  contentTypes = anyContentType,
) {
  return fc
    .record({ payload: bodies, signature: signatures, contentType: contentTypes })
    .map(({ payload, signature, contentType }): Attempt => ({ ...payload, signature, contentType }));
}

describe('the webhook under thousands of mutated and random requests', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    await syncWorkspaces(database.db, testConfig());
    // Sent before the engine starts, so its sender never sees them pending.
    for (let first = 0; first < OUTBOUND_WAMIDS.length; first += REPLIES_PER_SESSION) {
      const replies = OUTBOUND_WAMIDS.slice(first, first + REPLIES_PER_SESSION);
      const { workspaceId } = replies[0]!;
      const { messageIds } = await seedConversation(database.db, {
        workspaceId,
        phoneNumberId: workspaceId === 'acme' ? ACME_NUMBER : GLOBEX_NUMBER,
        waId: String(4_473_000_000 + first),
        messages: replies.map(() => 'Your parcel is on its way.'),
        customerWroteAt: null,
        now: Date.UTC(2025, 5, 8),
        // Closed: the notices their failures leave are answered without loading the seeded, empty snapshot.
        closed: true,
      });
      await database.db
        .updateTable('outbox')
        .set({ status: 'sent' })
        .where('message_id', 'in', messageIds)
        .execute();
      for (const [i, { wamid }] of replies.entries()) {
        await database.db
          .updateTable('messages')
          .set({ wamid, status: 'sent' })
          .where('id', '=', messageIds[i]!)
          .execute();
        outbound.set(keyOf(workspaceId, wamid), { status: 'sent', code: null });
      }
    }
    gateway = await startTestGateway({ database });
  });

  afterAll(async () => {
    await gateway?.close();
    await database?.close();
    console.log(
      `webhook property: ${runs} requests, ${recorded.size} inbound rows written, ${held.size} statuses held, ` +
        `outbound messages by status ${JSON.stringify(countBy([...outbound.values()].map((message) => message.status)))}`,
    );
  });

  it('never answers 5xx and writes only whole, validly signed, valid payloads (mutated fixtures)', async () => {
    await fc.assert(
      fc.asyncProperty(attempts(fc.oneof(byteFlips, truncation, fieldChange, untouched)), check),
      { numRuns: 1_500 },
    );
  });

  it('does the same for random bodies, signed and unsigned', async () => {
    await fc.assert(fc.asyncProperty(attempts(randomBody), check), { numRuns: 500 });
  });

  it('writes every routable message of a valid webhook, whatever its text and ids hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        attempts(freshWebhook, fc.constant<Attempt['signature']>('valid'), fc.constant('application/json')),
        check,
      ),
      { numRuns: 500 },
    );
    expect(recorded.size).toBeGreaterThan(500);
  });

  it('keeps answering afterwards', async () => {
    const webhook = signedFixture('text-message.json');
    const response = await gateway.engine.app.inject({
      method: 'POST',
      url: '/webhooks/whatsapp',
      headers: webhook.headers,
      payload: webhook.body,
    });
    expect(response.statusCode).toBe(200);
    expect((await gateway.engine.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
