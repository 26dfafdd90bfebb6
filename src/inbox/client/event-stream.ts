import { type ServerSentEvent, SseParser } from './sse-parser.ts';

export interface EventStreamHandlers {
  onEvent(event: ServerSentEvent): void;
  onConnection(connection: 'connecting' | 'live' | 'offline'): void;
  onUnauthorized(): void;
}

/** Three missed heartbeats (the server sends one every 15 s) and the connection counts as dead. */
const SILENCE_LIMIT_MS = 45_000;
const MAX_BACKOFF_MS = 10_000;

/**
 * Reads `GET /api/events` and keeps reading: after a drop it reconnects with `Last-Event-ID`, so the server
 * replays exactly what was missed. fetch rather than EventSource, which cannot send the Authorization header.
 */
export function connectEventStream(
  token: string,
  lastEventId: string | null,
  handlers: EventStreamHandlers,
): { close(): void } {
  let closed = false;
  let controller = new AbortController();
  let resumeAfter = lastEventId;

  async function readOnce(): Promise<'unauthorized' | 'dropped'> {
    controller = new AbortController();
    let watchdog = setTimeout(() => controller.abort(), SILENCE_LIMIT_MS);
    try {
      const response = await fetch('/api/events', {
        headers: {
          authorization: `Bearer ${token}`,
          ...(resumeAfter ? { 'last-event-id': resumeAfter } : {}),
        },
        signal: controller.signal,
      });
      if (response.status === 401) return 'unauthorized';
      if (!response.ok || !response.body) return 'dropped';
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'dropped';
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), SILENCE_LIMIT_MS);
        for (const event of parser.push(value)) {
          if (event.event === 'ready') handlers.onConnection('live');
          if (event.lastEventId) resumeAfter = event.lastEventId;
          handlers.onEvent(event);
        }
      }
    } catch {
      return 'dropped';
    } finally {
      clearTimeout(watchdog);
    }
  }

  void (async () => {
    let backoff = 500;
    while (!closed) {
      handlers.onConnection('connecting');
      const started = Date.now();
      const outcome = await readOnce();
      if (closed) return;
      if (outcome === 'unauthorized') return handlers.onUnauthorized();
      handlers.onConnection('offline');
      // A connection that lasted a while was healthy: start the backoff afresh.
      if (Date.now() - started > MAX_BACKOFF_MS) backoff = 500;
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  })();

  return {
    close() {
      closed = true;
      controller.abort();
    },
  };
}
