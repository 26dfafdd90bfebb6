import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SessionNotice } from '../../src/actors/session-notice.ts';
import { type LiveEventsOptions, WorkspaceEventStream } from '../../src/gateway/live-events.ts';
import { type ServerSentEvent, SseParser } from '../../src/inbox/client/sse-parser.ts';
import { createInboxQueries, type InboxQueries } from '../../src/persistence/inbox-queries.ts';
import type { Database } from '../../src/persistence/schema.ts';
import { syncWorkspaces } from '../../src/persistence/workspace-sync.ts';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { sessionSubject } from '../../src/transport/subjects.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { testConfig } from '../support/test-config.ts';

/**
 * The live stream on its own, with session events written straight into the store and notices published by
 * hand, so the test decides the order in which commits and notices happen.
 */
let database: TestDatabase;
let db: Kysely<Database>;
let transport: Transport;
let queries: InboxQueries;
let sessionCounter = 0;
let sessionId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  await syncWorkspaces(db, testConfig());
  transport = createInProcessTransport();
  queries = createInboxQueries(db);
});

afterAll(async () => {
  await transport?.close();
  await database?.close();
});

beforeEach(async () => {
  sessionId = `session-${++sessionCounter}`;
  await db
    .insertInto('sessions')
    .values({
      id: sessionId,
      workspace_id: 'acme',
      session_key: `106540352242922-${sessionCounter}`,
      partition: 1,
      phone_number_id: '106540352242922',
      customer_wa_id: String(sessionCounter),
      state: 'active',
      snapshot: '{}',
      machine_version: 1,
      version: 1,
      created_at: new Date(),
      updated_at: new Date(),
    })
    .execute();
});

function notice(text: string): Omit<SessionNotice, 'eventId'> {
  return {
    type: 'session.updated',
    sessionId,
    workspaceId: 'acme',
    sessionKey: `106540352242922-${sessionCounter}`,
    state: 'active',
    previousState: 'active',
    version: 1,
    at: 0,
    handoff: null,
    entries: [{ kind: 'customer', at: 0, wamid: text, type: 'text', text }],
  };
}

/** Commits a session event; returns its id. */
async function commit(text: string): Promise<string> {
  const row = await db
    .insertInto('session_events')
    .values({ workspace_id: 'acme', session_id: sessionId, payload: JSON.stringify(notice(text)) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

const ring = () =>
  transport.publish(sessionSubject('acme', 1, `106540352242922-${sessionCounter}`, 'evt'), {});

function openStream(options: Partial<LiveEventsOptions> = {}) {
  const parser = new SseParser();
  const events: ServerSentEvent[] = [];
  const chunks: string[] = [];
  const failures: unknown[] = [];
  const stream = new WorkspaceEventStream(
    'acme',
    {
      write: (chunk) => {
        chunks.push(chunk);
        events.push(...parser.push(chunk));
      },
      fail: (error) => failures.push(error),
    },
    { transport, queries, heartbeatMs: 60_000, replayLimit: 100, ...options },
  );
  const texts = () =>
    events
      .filter((event) => event.event.startsWith('session.'))
      .map((event) => JSON.parse(event.data).entries[0].text);
  return { stream, events, chunks, failures, texts };
}

async function eventually(check: () => void) {
  for (let attempt = 0; ; attempt++) {
    try {
      check();
      return;
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

describe('WorkspaceEventStream', () => {
  it('delivers an event committed during the replay once, after the replayed ones', async () => {
    const resumeAfter = await commit('seen before the disconnect');
    await commit('missed 1');
    await commit('missed 2');
    let releaseReplay!: () => void;
    const replayGate = new Promise<void>((resolve) => {
      releaseReplay = resolve;
    });
    const gated: InboxQueries = {
      ...queries,
      listEventsAfter: async (...args) => {
        const rows = await queries.listEventsAfter(...args);
        await replayGate;
        return rows;
      },
    };
    const { stream, texts } = openStream({ queries: gated });
    const opening = stream.open(resumeAfter);
    // Committed and announced while the replay's read is in flight: the live notice races the replay.
    await commit('during the replay');
    await ring();
    await transport.flush();
    releaseReplay();
    await opening;
    await eventually(() => expect(texts()).toEqual(['missed 1', 'missed 2', 'during the replay']));
    await commit('live');
    await ring();
    await eventually(() => expect(texts()).toEqual(['missed 1', 'missed 2', 'during the replay', 'live']));
    stream.close();
  });

  it('sends events in id order and without gaps when notices arrive out of order', async () => {
    const { stream, events } = openStream();
    await stream.open(undefined);
    const first = await commit('first');
    const second = await commit('second');
    // The notice of the later commit arrives first (two nodes publishing), then the earlier one's.
    await ring();
    await ring();
    await eventually(() =>
      expect(
        events.filter((event) => event.event.startsWith('session.')).map((event) => event.lastEventId),
      ).toEqual([first, second]),
    );
    stream.close();
  });

  it('tells a client further behind than the replay limit to resync instead of replaying', async () => {
    const resumeAfter = await commit('old');
    for (let i = 0; i < 3; i++) await commit(`backlog ${i}`);
    const { stream, events } = openStream({ replayLimit: 2 });
    await stream.open(resumeAfter);
    expect(events.map((event) => event.event)).toEqual(['resync', 'ready']);
    const latest = await queries.latestEventId('acme');
    expect(JSON.parse(events[1]!.data)).toEqual({ lastEventId: latest });
    // The resync's id is where the client resumes: a reconnect from it replays nothing and resyncs no more.
    expect(events.map((event) => event.lastEventId)).toEqual([latest, latest]);
    stream.close();
    const again = openStream({ replayLimit: 2 });
    await again.stream.open(events[0]!.lastEventId);
    expect(again.events.map((event) => event.event)).toEqual(['ready']);
    again.stream.close();
  });

  it('gives ready the id of where the stream starts, so a quiet client that drops misses nothing', async () => {
    const { stream, events } = openStream();
    await stream.open(undefined);
    expect(events.map((event) => [event.event, event.lastEventId])).toEqual([
      ['ready', await queries.latestEventId('acme')],
    ]);
    stream.close();
  });

  it('writes heartbeat comments while the stream is quiet, and stops at close', async () => {
    const { stream, chunks } = openStream({ heartbeatMs: 20 });
    await stream.open(undefined);
    await eventually(() =>
      expect(chunks.filter((chunk) => chunk === ': heartbeat\n\n').length).toBeGreaterThan(1),
    );
    stream.close();
    const count = chunks.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(chunks.length).toBe(count);
  });

  it('reports a failed read so the response can end and the client resume', async () => {
    const failing: InboxQueries = {
      ...queries,
      listEventsAfter: async () => {
        throw new Error('database gone');
      },
    };
    const { stream, failures } = openStream({ queries: failing });
    await stream.open(undefined).catch(() => undefined);
    await ring();
    await eventually(() => expect(failures).toHaveLength(1));
    stream.close();
  });
});
