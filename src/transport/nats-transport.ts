import { connect, errors, type Msg, type NatsConnection } from '@nats-io/transport-node';
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

export interface NatsTransportConfig {
  url: string;
  /** Shown by the server's monitoring endpoints, so operators can tell nodes apart. */
  name?: string;
  /** How long the first connection may take; reconnects after that retry forever. */
  connectTimeoutMs?: number;
  onError?: TransportErrorHandler;
}

export async function createNatsTransport(config: NatsTransportConfig): Promise<Transport> {
  const onError = config.onError ?? reportToStderr;
  const nc = await connect({
    servers: config.url,
    name: config.name,
    timeout: config.connectTimeoutMs,
    // A server node outlives NATS restarts: keep retrying instead of giving up after the default 10 tries.
    maxReconnectAttempts: -1,
  });
  const connection = trackConnection(nc);

  return {
    async publish(subject, payload) {
      nc.publish(subject, encode(payload));
    },

    subscribe(subject, handler, options) {
      const sub = nc.subscribe(subject, {
        queue: options?.queue,
        callback: (error, msg) => {
          if (error) onError(error, subject);
          else void deliver(handler, msg, onError);
        },
      });
      return {
        unsubscribe() {
          if (!sub.isClosed()) sub.unsubscribe();
        },
      };
    },

    async request(subject, payload, options) {
      const timeoutMs = options?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      try {
        return decode(await nc.request(subject, encode(payload), { timeout: timeoutMs }));
      } catch (error) {
        if (error instanceof errors.RequestError && error.isNoResponders())
          throw new NoRespondersError(subject);
        if (error instanceof errors.TimeoutError) throw new RequestTimeoutError(subject, timeoutMs);
        throw error;
      }
    },

    flush: () => nc.flush(),

    isConnected: () => connection.connected && !nc.isClosed(),

    async close() {
      if (!nc.isClosed()) await nc.drain();
      await connection.done;
    },
  };
}

async function deliver(handler: MessageHandler, msg: Msg, onError: TransportErrorHandler): Promise<void> {
  try {
    const message: TransportMessage = { subject: msg.subject, payload: decode(msg) };
    if (msg.reply) message.respond = (reply) => msg.respond(encode(reply));
    await handler(message);
  } catch (error) {
    onError(error, msg.subject);
  }
}

/** Follows the status stream because the client exposes no synchronous "connected" flag. */
function trackConnection(nc: NatsConnection): { readonly connected: boolean; done: Promise<void> } {
  const state = { connected: true, done: Promise.resolve() };
  state.done = (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'close') state.connected = false;
      else if (status.type === 'reconnect') state.connected = true;
    }
  })();
  return state;
}

// `undefined` has no JSON form; it travels as an empty message and comes back as `undefined`.
function encode(payload: unknown): string | undefined {
  return JSON.stringify(payload);
}

function decode(msg: Msg): unknown {
  return msg.data.length === 0 ? undefined : msg.json();
}
