import type { ReplyAgent, ReplyOutcome } from '../ai/reply-agent.ts';

/**
 * The real AI agent with a hand on its latency: while held, calls wait, the way a real model is still
 * composing when the customer's next line arrives. That makes a burst deterministic: three lines delivered
 * while held meet one AI call, as they would meet a slow model, however fast the offline agent is.
 */
export class HeldReplyAgent implements ReplyAgent {
  readonly #agent: ReplyAgent;
  #held = false;
  #waiting: (() => void)[] = [];
  #inFlight = new Set<Promise<unknown>>();

  constructor(agent: ReplyAgent) {
    this.#agent = agent;
  }

  /** Calls from now on wait until `release`. */
  hold(): void {
    this.#held = true;
  }

  /** Lets every waiting call run, and later ones run at once. */
  release(): void {
    this.#held = false;
    for (const start of this.#waiting.splice(0)) start();
  }

  /** Whether a call is waiting or running. */
  get busy(): boolean {
    return this.#inFlight.size > 0;
  }

  /** Resolves when every call made so far has answered. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  generateReply(
    request: Parameters<ReplyAgent['generateReply']>[0],
    signal: AbortSignal,
  ): Promise<ReplyOutcome> {
    const call = (async () => {
      if (this.#held) await new Promise<void>((start) => this.#waiting.push(start));
      // The session moved on while this call waited (a later line restarted it): its answer would be dropped.
      if (signal.aborted) {
        return { kind: 'fallback', reason: 'ai_error', evidence: { error: 'superseded' } } as const;
      }
      return this.#agent.generateReply(request, signal);
    })();
    this.#inFlight.add(call);
    const settled = () => this.#inFlight.delete(call);
    call.then(settled, settled);
    return call;
  }
}
