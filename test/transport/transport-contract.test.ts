import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import {
  parseSessionSubject,
  partitionSubject,
  sessionSubject,
  workspaceEventsSubject,
} from '../../src/transport/subjects.ts';
import {
  NoRespondersError,
  RequestTimeoutError,
  type Transport,
  type TransportErrorHandler,
  type TransportMessage,
} from '../../src/transport/transport.ts';
import {
  connectNatsTestTransport,
  isNatsReachable,
  natsRequiredMessage,
  natsUrl,
  uniqueId,
} from '../support/services.ts';

type TransportFactory = (onError: TransportErrorHandler) => Promise<Transport>;

const natsReachable = await isNatsReachable();

describe.each([
  {
    kind: 'in-process',
    create: async (onError) => createInProcessTransport({ onError }),
    missing: undefined,
  },
  {
    kind: 'nats',
    create: async (onError) => (await connectNatsTestTransport({ onError })).transport,
    missing: natsReachable ? undefined : `NATS not reachable at ${natsUrl()}`,
  },
] satisfies { kind: string; create: TransportFactory; missing: string | undefined }[])(
  '$kind transport',
  ({ create, missing }) => {
    if (missing === undefined) transportContract(create);
    else if (process.env.CI === 'true') it('has a NATS server', () => expect.fail(natsRequiredMessage()));
    else it.skip(`skipped: ${missing}`, () => {});
  },
);

function transportContract(create: TransportFactory): void {
  let transport: Transport;
  let handlerErrors: { error: unknown; subject: string }[];
  let prefix: string;

  beforeEach(async () => {
    handlerErrors = [];
    transport = await create((error, subject) => handlerErrors.push({ error, subject }));
    // The NATS server is shared with other test files: every test gets subjects of its own.
    prefix = `botrelic.${uniqueId('contract')}`;
  });

  afterEach(async () => {
    await transport.close();
  });

  function collect(subject: string, options?: { queue?: string }): TransportMessage[] {
    const received: TransportMessage[] = [];
    transport.subscribe(subject, (message) => void received.push(message), options);
    return received;
  }

  function subjectsOf(messages: TransportMessage[]): string[] {
    return messages.map((message) => message.subject);
  }

  /** Per-subscription ordering means everything published before `last` has arrived once `last` has. */
  async function waitForSubject(received: TransportMessage[], last: string): Promise<void> {
    await vi.waitFor(() => expect(subjectsOf(received)).toContain(last), { timeout: 5_000, interval: 5 });
  }

  it('delivers a published payload to a subscriber of the exact subject, with no respond function', async () => {
    const received = collect(`${prefix}.orders`);
    await transport.publish(`${prefix}.orders`, { id: 7, lines: ['a', 'b'] });
    await transport.publish(`${prefix}.other`, { id: 8 });
    await transport.publish(`${prefix}.orders`, { id: 9 });
    await vi.waitFor(() => expect(received).toHaveLength(2));

    expect(received.map((m) => m.payload)).toEqual([{ id: 7, lines: ['a', 'b'] }, { id: 9 }]);
    expect(subjectsOf(received)).toEqual([`${prefix}.orders`, `${prefix}.orders`]);
    expect(received[0]?.respond).toBeUndefined();
  });

  it('never calls a handler synchronously inside publish', async () => {
    const received = collect(`${prefix}.async`);
    const publishing = transport.publish(`${prefix}.async`, 1);
    expect(received).toHaveLength(0);
    await publishing;
    await waitForSubject(received, `${prefix}.async`);
  });

  it("matches '*' to exactly one token", async () => {
    const received = collect(`${prefix}.a.*`);
    for (const subject of ['a', 'a.b.c', 'x.b', 'a.b', 'a.c'])
      await transport.publish(`${prefix}.${subject}`, 0);
    await waitForSubject(received, `${prefix}.a.c`);

    expect(subjectsOf(received)).toEqual([`${prefix}.a.b`, `${prefix}.a.c`]);
  });

  it("matches '*' in the middle of a pattern", async () => {
    const received = collect(`${prefix}.*.end`);
    for (const subject of ['x.end', 'x.y.end', 'end', 'x.other', 'y.end']) {
      await transport.publish(`${prefix}.${subject}`, 0);
    }
    await waitForSubject(received, `${prefix}.y.end`);

    expect(subjectsOf(received)).toEqual([`${prefix}.x.end`, `${prefix}.y.end`]);
  });

  it("matches '>' to one or more trailing tokens", async () => {
    const received = collect(`${prefix}.a.>`);
    for (const subject of ['a', 'b.c', 'a.b', 'a.b.c.d', 'a.z'])
      await transport.publish(`${prefix}.${subject}`, 0);
    await waitForSubject(received, `${prefix}.a.z`);

    expect(subjectsOf(received)).toEqual([`${prefix}.a.b`, `${prefix}.a.b.c.d`, `${prefix}.a.z`]);
  });

  it('keeps publish order for each subscription over 1000 messages', async () => {
    const first = collect(`${prefix}.seq`);
    const second = collect(`${prefix}.>`);
    for (let n = 0; n < 1000; n++) await transport.publish(`${prefix}.seq`, n);
    await vi.waitFor(() => expect(first.length + second.length).toBe(2000), { timeout: 10_000 });

    const expected = Array.from({ length: 1000 }, (_, n) => n);
    expect(first.map((m) => m.payload)).toEqual(expected);
    expect(second.map((m) => m.payload)).toEqual(expected);
  });

  it('stops delivery after unsubscribe', async () => {
    const dropped: unknown[] = [];
    const subscription = transport.subscribe(
      `${prefix}.news`,
      (message) => void dropped.push(message.payload),
    );
    const witness = collect(`${prefix}.news`);

    await transport.publish(`${prefix}.news`, 1);
    await vi.waitFor(() => expect(dropped).toEqual([1]));
    // Message 2 is published but not yet delivered when the subscription ends: it must be dropped too.
    const publishing = transport.publish(`${prefix}.news`, 2);
    subscription.unsubscribe();
    await publishing;
    await transport.publish(`${prefix}.news`, 3);
    await vi.waitFor(() => expect(witness.map((m) => m.payload)).toEqual([1, 2, 3]));

    expect(dropped).toEqual([1]);
  });

  it('gives each message to exactly one queue group member while a plain subscriber gets them all', async () => {
    const memberA = collect(`${prefix}.jobs`, { queue: 'workers' });
    const memberB = collect(`${prefix}.jobs`, { queue: 'workers' });
    const everything = collect(`${prefix}.jobs`);
    const count = 40;
    for (let n = 0; n < count; n++) await transport.publish(`${prefix}.jobs`, n);
    await vi.waitFor(() => expect(everything).toHaveLength(count));
    await vi.waitFor(() => expect(memberA.length + memberB.length).toBeGreaterThanOrEqual(count));
    await transport.flush();

    const handled = [...memberA, ...memberB].map((m) => m.payload as number).sort((x, y) => x - y);
    expect(handled).toEqual(Array.from({ length: count }, (_, n) => n));
    // Both members take work: the group spreads load rather than pinning it to one subscriber.
    expect(memberA.length).toBeGreaterThan(0);
    expect(memberB.length).toBeGreaterThan(0);
  });

  it('answers a request with the reply of a responder', async () => {
    transport.subscribe(`${prefix}.double`, (message) => {
      message.respond?.({ doubled: (message.payload as { n: number }).n * 2 });
    });

    await expect(transport.request(`${prefix}.double`, { n: 21 })).resolves.toEqual({ doubled: 42 });
  });

  it('resolves a request with the first reply when several responders answer', async () => {
    transport.subscribe(`${prefix}.race`, (message) => {
      setTimeout(() => message.respond?.('slow'), 100);
    });
    transport.subscribe(`${prefix}.race`, (message) => message.respond?.('fast'));

    await expect(transport.request(`${prefix}.race`, null)).resolves.toBe('fast');
  });

  it('rejects a request nobody subscribes to with NoRespondersError', async () => {
    collect(`${prefix}.elsewhere`);

    await expect(transport.request(`${prefix}.nobody`, {}, { timeoutMs: 2_000 })).rejects.toBeInstanceOf(
      NoRespondersError,
    );
  });

  it('rejects a request whose subscriber never responds with RequestTimeoutError', async () => {
    const received = collect(`${prefix}.silent`);
    const started = Date.now();

    await expect(transport.request(`${prefix}.silent`, { q: 1 }, { timeoutMs: 200 })).rejects.toBeInstanceOf(
      RequestTimeoutError,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(received.map((m) => m.payload)).toEqual([{ q: 1 }]);
  });

  it('keeps delivering after a handler throws or rejects, reporting each failure', async () => {
    const seen: unknown[] = [];
    transport.subscribe(`${prefix}.fragile`, async (message) => {
      seen.push(message.payload);
      if (message.payload === 'throw') throw new Error('sync boom');
      if (message.payload === 'reject') await Promise.reject(new Error('async boom'));
    });
    for (const payload of ['throw', 'reject', 'fine']) await transport.publish(`${prefix}.fragile`, payload);
    await vi.waitFor(() => expect(seen).toEqual(['throw', 'reject', 'fine']));
    await vi.waitFor(() => expect(handlerErrors).toHaveLength(2));

    expect(handlerErrors.map(({ error }) => (error as Error).message).sort()).toEqual([
      'async boom',
      'sync boom',
    ]);
    expect(handlerErrors.map(({ subject }) => subject)).toEqual([`${prefix}.fragile`, `${prefix}.fragile`]);
  });

  it('never shares a payload object between publisher and subscribers', async () => {
    const original = { nested: { n: 1 } };
    const seen: { nested: { n: number } }[] = [];
    const snapshots: number[] = [];
    const record = (message: TransportMessage) => {
      const payload = message.payload as { nested: { n: number } };
      snapshots.push(payload.nested.n);
      seen.push(payload);
      payload.nested.n = 99;
    };
    transport.subscribe(`${prefix}.shared`, record);
    transport.subscribe(`${prefix}.shared`, record);

    await transport.publish(`${prefix}.shared`, original);
    original.nested.n = 2;
    await vi.waitFor(() => expect(seen).toHaveLength(2));

    expect(snapshots).toEqual([1, 1]);
    expect(original.nested.n).toBe(2);
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen[0]?.nested).not.toBe(original.nested);
  });

  it('carries payloads as JSON, as a network hop would', async () => {
    const received = collect(`${prefix}.json`);
    await transport.publish(`${prefix}.json`, { at: new Date(0), dropped: undefined, list: [1, 'two'] });
    await transport.publish(`${prefix}.json`, undefined);
    await vi.waitFor(() => expect(received).toHaveLength(2));

    expect(received[0]?.payload).toEqual({ at: '1970-01-01T00:00:00.000Z', list: [1, 'two'] });
    expect(received[0]?.payload).not.toHaveProperty('dropped');
    expect(received[1]?.payload).toBeUndefined();
  });

  it('flush resolves after earlier publishes reached the handlers', async () => {
    // Over NATS this holds for a subscriber on the same connection: the server answers the flush's PING
    // only after writing the messages it routed back to us.
    const received = collect(`${prefix}.flushed`);
    for (let n = 0; n < 50; n++) await transport.publish(`${prefix}.flushed`, n);
    await transport.flush();

    expect(received).toHaveLength(50);
  });

  it('reports the connection state', async () => {
    expect(transport.isConnected()).toBe(true);
    await transport.close();
    expect(transport.isConnected()).toBe(false);
  });

  it("routes a partition owner's subscription to that partition's sessions only", async () => {
    const workspace = uniqueId('ws');
    const received = collect(partitionSubject(3, 'in'));
    await transport.publish(sessionSubject(workspace, 3, 'alice', 'in'), 1);
    await transport.publish(sessionSubject(workspace, 4, 'alice', 'in'), 2);
    await transport.publish(sessionSubject(workspace, 3, 'alice', 'cmd'), 3);
    await transport.publish(sessionSubject(workspace, 3, 'bob', 'in'), 4);
    await waitForSubject(received, sessionSubject(workspace, 3, 'bob', 'in'));

    // Other test files may use partition 3 on the shared server: only this workspace's traffic is ours.
    const ours = received.filter((m) => parseSessionSubject(m.subject)?.workspaceId === workspace);
    expect(ours.map((m) => m.payload)).toEqual([1, 4]);
    expect(ours.map((m) => parseSessionSubject(m.subject))).toEqual([
      { workspaceId: workspace, partition: 3, sessionKey: 'alice', kind: 'in' },
      { workspaceId: workspace, partition: 3, sessionKey: 'bob', kind: 'in' },
    ]);
  });

  it("routes a workspace's event stream to that workspace's events only", async () => {
    const workspace = uniqueId('ws');
    const otherWorkspace = uniqueId('ws');
    const received = collect(workspaceEventsSubject(workspace));
    await transport.publish(sessionSubject(workspace, 1, 'alice', 'evt'), 1);
    await transport.publish(sessionSubject(workspace, 1, 'alice', 'in'), 2);
    await transport.publish(sessionSubject(otherWorkspace, 1, 'alice', 'evt'), 3);
    await transport.publish(sessionSubject(workspace, 2, 'bob', 'cmd'), 4);
    await transport.publish(sessionSubject(workspace, 2, 'bob', 'evt'), 5);
    await waitForSubject(received, sessionSubject(workspace, 2, 'bob', 'evt'));

    expect(received.map((m) => m.payload)).toEqual([1, 5]);
  });
}
