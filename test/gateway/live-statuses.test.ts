import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionView } from '../../src/gateway/agent-api-schemas.ts';
import { type EventStreamClient, openEventStream } from '../support/event-stream-client.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { postWebhook, signed, statusWebhook } from '../support/meta-webhook.ts';
import { ACME_NUMBER } from '../support/test-config.ts';

const ALICE = 'alice-token-0123456789';

/**
 * Delivery statuses reach the open inbox live: a status webhook about an agent's reply is a `message.status`
 * event on GET /api/events, stored like every other event, so a client that reconnects gets the ones it missed.
 */
describe('delivery statuses on the live event stream', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway();
  });

  afterAll(async () => {
    await gateway?.close();
  });

  async function call(method: 'GET' | 'POST', url: string, body?: unknown) {
    const response = await fetch(`${gateway.baseUrl}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${ALICE}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(response.status, `${method} ${url}`).toBeLessThan(300);
    return response.json();
  }

  /** A customer writes, Alice takes the session over and replies: the session's id, once it all settled. */
  async function aliceReplies(waId: string, customerText: string, reply: string): Promise<string> {
    const { sessionKey } = await gateway.customerSays('acme', ACME_NUMBER, waId, customerText);
    const { id: sessionId } = await gateway.database.db
      .selectFrom('sessions')
      .select('id')
      .where('session_key', '=', sessionKey)
      .executeTakeFirstOrThrow();
    await call('POST', `/api/sessions/${sessionId}/takeover`);
    await call('POST', `/api/sessions/${sessionId}/messages`, { text: reply });
    await gateway.settle();
    return sessionId;
  }

  const statusOf = (stream: EventStreamClient, messageId: string, status: string) =>
    stream.next((event) => {
      if (event.event !== 'message.status') return false;
      const data = JSON.parse(event.data);
      return data.messageId === messageId && data.status === status;
    });

  it("moves an agent's reply from sent to read in the open transcript, and replays what a client missed", async () => {
    const stream = await openEventStream(gateway.baseUrl, ALICE);
    let resumed: EventStreamClient | undefined;
    try {
      await stream.next((event) => event.event === 'ready');
      const sessionId = await aliceReplies('4915200000001', 'Hello?', 'Alice here, how can I help?');
      const transcript = async () =>
        ((await call('GET', `/api/sessions/${sessionId}`)) as SessionView).transcript;
      const reply = (await transcript()).find((message) => message.text === 'Alice here, how can I help?')!;

      // The sender stored the wamid it was given: the first tick, without a webhook.
      const sent = JSON.parse((await statusOf(stream, reply.id, 'sent')).data);
      expect(sent).toEqual({
        sessionId,
        messageId: reply.id,
        wamid: expect.any(String),
        status: 'sent',
        error: null,
        at: expect.any(Number),
      });

      // Meta says read (before delivered, as it may): the stream says so at once, and so does the transcript.
      const read = await postWebhook(
        gateway.baseUrl,
        signed(statusWebhook('status-read.json', { wamid: sent.wamid })),
      );
      expect(read.status).toBe(200);
      const readEvent = await statusOf(stream, reply.id, 'read');
      expect(JSON.parse(readEvent.data)).toMatchObject({ sessionId, wamid: sent.wamid, status: 'read' });
      expect((await transcript()).find((message) => message.id === reply.id)).toMatchObject({
        status: 'read',
      });

      // A late `delivered` moves nothing, so nothing is streamed.
      const late = signed(statusWebhook('status-delivered.json', { wamid: sent.wamid }));
      expect((await postWebhook(gateway.baseUrl, late)).status).toBe(200);
      expect((await stream.quiet(200)).filter((event) => event.event === 'message.status')).toEqual([]);

      // A client that dropped right after `sent` gets `read` replayed, with the same id.
      const sentEvent = stream.events.find(
        (event) => event.event === 'message.status' && JSON.parse(event.data).status === 'sent',
      )!;
      resumed = await openEventStream(gateway.baseUrl, ALICE, sentEvent.lastEventId);
      await resumed.next((event) => event.event === 'ready');
      const replayed = resumed.events.filter((event) => event.event === 'message.status');
      expect(replayed.map((event) => [event.lastEventId, JSON.parse(event.data).status])).toEqual([
        [readEvent.lastEventId, 'read'],
      ]);
    } finally {
      stream.close();
      resumed?.close();
    }
  });

  it('shows a failure with its code and title, and the session view lists no status as a session change', async () => {
    const stream = await openEventStream(gateway.baseUrl, ALICE);
    try {
      await stream.next((event) => event.event === 'ready');
      const sessionId = await aliceReplies('4915200000002', 'Hi', 'One moment');
      const view = (await call('GET', `/api/sessions/${sessionId}`)) as SessionView;
      const reply = view.transcript.find((message) => message.text === 'One moment')!;
      const sent = JSON.parse((await statusOf(stream, reply.id, 'sent')).data);

      const failure = await postWebhook(
        gateway.baseUrl,
        signed(statusWebhook('status-failed.json', { wamid: sent.wamid })),
      );
      expect(failure.status).toBe(200);
      const failed = JSON.parse((await statusOf(stream, reply.id, 'failed')).data);
      expect(failed.error).toEqual({ code: 131047, title: 'Re-engagement message' });
      await gateway.settle();
      const after = (await call('GET', `/api/sessions/${sessionId}`)) as SessionView;
      expect(after.transcript.find((message) => message.id === reply.id)).toMatchObject({
        status: 'failed',
        error: { code: 131047, title: 'Re-engagement message' },
      });
      // Decisions and handoff steps come from the session's own events: the statuses' do not break them.
      expect(after.handoffHistory.map((step) => step.kind)).toEqual(['taken']);
    } finally {
      stream.close();
    }
  });
});
