import { type ServerSentEvent, SseParser } from '../../src/inbox/client/sse-parser.ts';

export interface EventStreamClient {
  status: number;
  /** Every event received so far, in order. */
  events: ServerSentEvent[];
  /** Resolves with the next event (after those already taken) that matches, or rejects after the timeout. */
  next(match?: (event: ServerSentEvent) => boolean, timeoutMs?: number): Promise<ServerSentEvent>;
  /** Waits until `ms` passed with no event arriving: to show that something did not come. */
  quiet(ms: number): Promise<ServerSentEvent[]>;
  close(): void;
}

/** Reads `GET /api/events` over a real socket, as the inbox page does (fetch, so the token goes in a header). */
export async function openEventStream(
  baseUrl: string,
  token: string,
  lastEventId?: string,
): Promise<EventStreamClient> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/api/events`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal,
  });
  const events: ServerSentEvent[] = [];
  let taken = 0;
  const listeners = new Set<() => void>();
  if (response.body) {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          events.push(...parser.push(decoder.decode(chunk, { stream: true })));
          for (const listener of listeners) listener();
        }
      } catch {
        // Aborted by close().
      }
    })();
  }
  return {
    status: response.status,
    events,
    next(match = () => true, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          while (taken < events.length) {
            const event = events[taken++]!;
            if (match(event)) {
              clearTimeout(timer);
              listeners.delete(check);
              resolve(event);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching event; received: ${events.map((e) => e.event).join(', ')}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async quiet(ms) {
      const before = events.length;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return events.slice(before);
    },
    close: () => controller.abort(),
  };
}
