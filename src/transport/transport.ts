/**
 * The transport port: how nodes address sessions. Deliberately as narrow as nats.js core:
 * publish, subscribe, request. Payloads are JSON values; subjects follow NATS syntax
 * (`.`-separated tokens, `*` matches one token, `>` the rest) on every adapter.
 */
export interface Transport {
  publish(subject: string, payload: unknown): Promise<void>;
  /**
   * Subscribes to a subject (wildcards allowed). A `queue` group delivers each message to one member only.
   * Messages reach the handler asynchronously, in arrival order; an async handler is not awaited before the
   * next message, so a handler that needs one-at-a-time processing keeps its own mailbox.
   */
  subscribe(subject: string, handler: MessageHandler, options?: { queue?: string }): Subscription;
  /** Sends a request and waits for the first reply. Rejects with `NoRespondersError` or `RequestTimeoutError`. */
  request(subject: string, payload: unknown, options?: { timeoutMs?: number }): Promise<unknown>;
  /** Resolves once everything published so far has reached the server (NATS) or the handlers (in-process). */
  flush(): Promise<void>;
  /** True while the adapter can reach its server. */
  isConnected(): boolean;
  close(): Promise<void>;
}

export interface TransportMessage {
  subject: string;
  payload: unknown;
  /** Present when the sender used `request`. */
  respond?: (payload: unknown) => void;
}

export type MessageHandler = (message: TransportMessage) => void | Promise<void>;

/** Receives what a handler threw, so one bad message never takes the process down. */
export type TransportErrorHandler = (error: unknown, subject: string) => void;

/** Used when the composition root passes no logger-backed handler. */
export const reportToStderr: TransportErrorHandler = (error, subject) => {
  console.error(`transport handler failed on ${subject}:`, error);
};

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export interface Subscription {
  unsubscribe(): void;
}

export class NoRespondersError extends Error {
  constructor(subject: string) {
    super(`no responders for ${subject}`);
    this.name = 'NoRespondersError';
  }
}

export class RequestTimeoutError extends Error {
  constructor(subject: string, timeoutMs: number) {
    super(`request to ${subject} timed out after ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
  }
}
