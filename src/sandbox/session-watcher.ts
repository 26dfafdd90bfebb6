import type { Decision } from '../gateway/agent-api-schemas.ts';
import type { InboxEvent } from '../gateway/inbox-events.ts';
import { SseParser } from '../inbox/client/sse-parser.ts';
import type { SandboxOutboxMessage } from '../persistence/sandbox-outbox-queries.ts';
import type { SandboxApiClient } from './sandbox-api-client.ts';

type AiDecision = Extract<Decision, { kind: 'ai' }>;
type FallbackDecision = Extract<Decision, { kind: 'fallback' }>;

/** What changed in the simulated customer's conversation, in the order a reader should see it. */
export type WatchedChange =
  | { kind: 'session'; sessionId: string }
  | { kind: 'fallback'; decision: FallbackDecision }
  | { kind: 'state'; state: string }
  | { kind: 'message'; message: SandboxOutboxMessage; decision?: AiDecision };

const RECONNECT_MS = 500;

/**
 * Follows one simulated customer's conversation: the workspace's live event stream rings; the session detail
 * says what the session decided (fallbacks, the state) and the sandbox outbox what reached the customer's phone.
 * The customer's own lines are left out: whoever plays the customer typed them.
 */
export class SessionWatcher {
  readonly #api: SandboxApiClient;
  readonly #workspaceId: string;
  readonly #onChange: (change: WatchedChange) => void;
  readonly #controller = new AbortController();
  #customer: string;
  #sessionId: string | null = null;
  #delivered = '0';
  #decisions = 0;
  #state: string | null = null;
  #lastEventId: string | undefined;
  #refreshes: Promise<void> = Promise.resolve();

  constructor(
    api: SandboxApiClient,
    customer: { workspaceId: string; waId: string },
    onChange: (change: WatchedChange) => void,
  ) {
    this.#api = api;
    this.#workspaceId = customer.workspaceId;
    this.#customer = customer.waId;
    this.#onChange = onChange;
  }

  get sessionId(): string | null {
    return this.#sessionId;
  }

  /** Another customer from now on (`/new`): their first message starts a session of their own. */
  follow(customerWaId: string): void {
    this.#customer = customerWaId;
    this.#sessionId = null;
  }

  /** Connects; resolves once the stream is live, so nothing the customer causes after that is missed. */
  start(): Promise<void> {
    return new Promise((ready, failed) => {
      void this.#run(ready, failed);
    });
  }

  stop(): void {
    this.#controller.abort();
  }

  async #run(ready: () => void, failed: (error: Error) => void): Promise<void> {
    let live = false;
    while (!this.#controller.signal.aborted) {
      try {
        const response = await this.#api.events(this.#controller.signal, this.#lastEventId);
        if (!response.ok || !response.body) throw new Error(`the event stream answered ${response.status}`);
        const parser = new SseParser();
        const decoder = new TextDecoder();
        const reader = response.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(decoder.decode(value, { stream: true }))) {
            if (event.lastEventId) this.#lastEventId = event.lastEventId;
            if (event.event === 'ready' && !live) {
              live = true;
              ready();
            } else if (event.event.startsWith('session.'))
              this.#onEvent(JSON.parse(event.data) as InboxEvent);
          }
        }
      } catch (error) {
        if (this.#controller.signal.aborted) return;
        if (!live) return failed(error as Error);
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  #onEvent(event: InboxEvent): void {
    if (event.customer.waId !== this.#customer) return;
    if (event.sessionId !== this.#sessionId) {
      this.#sessionId = event.sessionId;
      this.#decisions = 0;
      this.#state = null;
      this.#onChange({ kind: 'session', sessionId: event.sessionId });
    }
    const sessionId = event.sessionId;
    this.#refreshes = this.#refreshes.then(() => this.#refresh(sessionId)).catch(() => undefined);
  }

  async #refresh(sessionId: string): Promise<void> {
    if (sessionId !== this.#sessionId) return;
    const view = await this.#api.session(sessionId);
    const decisions = view.decisions.slice(this.#decisions);
    this.#decisions = view.decisions.length;
    for (const decision of decisions) {
      if (decision.kind === 'fallback') this.#onChange({ kind: 'fallback', decision });
    }
    // ai_responding lasts a moment; what it ends in is what the customer sees.
    if (view.session.state !== this.#state && view.session.state !== 'ai_responding') {
      this.#state = view.session.state;
      this.#onChange({ kind: 'state', state: view.session.state });
    }
    const answers = view.decisions.filter((decision): decision is AiDecision => decision.kind === 'ai');
    const { messages } = await this.#api.outbox(this.#workspaceId, this.#customer, this.#delivered);
    for (const message of messages) {
      this.#delivered = message.id;
      const decision =
        message.author === 'ai' ? answers.findLast((answer) => answer.text === message.text) : undefined;
      this.#onChange({ kind: 'message', message, ...(decision ? { decision } : {}) });
    }
  }
}
