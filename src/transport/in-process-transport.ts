import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  type MessageHandler,
  NoRespondersError,
  RequestTimeoutError,
  reportToStderr,
  type Transport,
  type TransportErrorHandler,
  type TransportMessage,
} from './transport.ts';

export interface InProcessTransportConfig {
  onError?: TransportErrorHandler;
}

interface Entry {
  pattern: string[];
  handler: MessageHandler;
  /** Members of one queue group share this key: NATS groups by subject and queue name together. */
  groupKey?: string;
  active: boolean;
}

/**
 * The embedded transport: one process owns every partition (DESIGN.md §7). It keeps NATS semantics
 * (subject wildcards, queue groups, no responders, copied payloads, asynchronous delivery) so code that
 * runs here runs unchanged over NATS.
 */
export function createInProcessTransport(config: InProcessTransportConfig = {}): Transport {
  const onError = config.onError ?? reportToStderr;
  const entries = new Set<Entry>();
  const nextMember = new Map<string, number>();
  let closed = false;

  function route(subject: string): Entry[] {
    const tokens = tokenize(subject);
    if (tokens.some((token) => token === '*' || token === '>')) {
      throw new Error(`cannot publish to wildcard subject ${subject}`);
    }
    const plain: Entry[] = [];
    const groups = new Map<string, Entry[]>();
    for (const entry of entries) {
      if (!matches(entry.pattern, tokens)) continue;
      if (entry.groupKey === undefined) plain.push(entry);
      else groups.set(entry.groupKey, [...(groups.get(entry.groupKey) ?? []), entry]);
    }
    for (const [key, members] of groups) {
      const turn = nextMember.get(key) ?? 0;
      nextMember.set(key, turn + 1);
      plain.push(members[turn % members.length]!);
    }
    return plain;
  }

  // Copying per receiver is what a network hop does: nobody shares an object with the publisher or each other.
  function dispatch(
    targets: Entry[],
    subject: string,
    json: string | undefined,
    respond?: (reply: unknown) => void,
  ) {
    // setImmediate keeps FIFO order and, unlike microtasks, lets I/O run between deliveries.
    setImmediate(() => {
      for (const entry of targets) {
        if (!entry.active) continue;
        const message: TransportMessage = { subject, payload: decode(json) };
        if (respond) message.respond = respond;
        void deliver(entry.handler, message, onError);
      }
    });
  }

  function ensureOpen() {
    if (closed) throw new Error('transport is closed');
  }

  return {
    async publish(subject, payload) {
      ensureOpen();
      dispatch(route(subject), subject, JSON.stringify(payload));
    },

    subscribe(subject, handler, options) {
      ensureOpen();
      const pattern = tokenize(subject);
      if (pattern.slice(0, -1).includes('>')) throw new Error(`'>' must be the last token in ${subject}`);
      const entry: Entry = { pattern, handler, active: true };
      if (options?.queue) entry.groupKey = `${options.queue} ${subject}`;
      entries.add(entry);
      return {
        unsubscribe() {
          entry.active = false;
          entries.delete(entry);
        },
      };
    },

    async request(subject, payload, options) {
      ensureOpen();
      const timeoutMs = options?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const targets = route(subject);
      if (targets.length === 0) throw new NoRespondersError(subject);
      // A settled promise ignores later calls, which is what makes the first reply win.
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new RequestTimeoutError(subject, timeoutMs)), timeoutMs);
        dispatch(targets, subject, JSON.stringify(payload), (reply) => {
          clearTimeout(timer);
          resolve(decode(JSON.stringify(reply)));
        });
      });
    },

    // Deliveries are queued with setImmediate in publish order, so one more turn comes after all of them.
    flush: () => new Promise((resolve) => setImmediate(resolve)),

    isConnected: () => !closed,

    // Like a NATS drain: refuse new work, let what was already published arrive, then stop.
    async close() {
      closed = true;
      await new Promise((resolve) => setImmediate(resolve));
      for (const entry of entries) entry.active = false;
      entries.clear();
    },
  };
}

async function deliver(handler: MessageHandler, message: TransportMessage, onError: TransportErrorHandler) {
  try {
    await handler(message);
  } catch (error) {
    onError(error, message.subject);
  }
}

function decode(json: string | undefined): unknown {
  return json === undefined ? undefined : JSON.parse(json);
}

function tokenize(subject: string): string[] {
  const tokens = subject.split('.');
  if (tokens.some((token) => token === '' || /\s/.test(token))) throw new Error(`invalid subject ${subject}`);
  return tokens;
}

/** NATS matching: `*` is exactly one token, `>` (last only) is one or more trailing tokens. */
function matches(pattern: string[], tokens: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const token = pattern[i];
    if (token === '>') return i === pattern.length - 1 && tokens.length > i;
    if (i >= tokens.length || (token !== '*' && token !== tokens[i])) return false;
  }
  return pattern.length === tokens.length;
}
