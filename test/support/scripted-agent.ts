import type { ReplyAgent, ReplyOutcome } from '../../src/ai/reply-agent.ts';
import type { ReplyRequest } from '../../src/machines/session.ts';

interface PendingCall {
  request: ReplyRequest;
  resolve(outcome: ReplyOutcome): void;
  signal: AbortSignal;
}

/**
 * An AI agent the test answers by hand: each call waits until the test says what the AI decided.
 * It plays the outside service (the LLM) only; the host, machine and store under test are real.
 */
export class ScriptedAgent implements ReplyAgent {
  readonly calls: ReplyRequest[] = [];
  #pending: PendingCall[] = [];
  #waiters: ((call: PendingCall) => void)[] = [];

  generateReply(request: ReplyRequest, signal: AbortSignal): Promise<ReplyOutcome> {
    this.calls.push(request);
    return new Promise((resolve) => {
      const call = { request, resolve, signal };
      const waiter = this.#waiters.shift();
      if (waiter) waiter(call);
      else this.#pending.push(call);
    });
  }

  /** The next call still waiting for an answer (an aborted call is skipped: its session moved on). */
  async nextCall(timeoutMs = 5_000): Promise<PendingCall> {
    for (;;) {
      const queued = this.#pending.shift();
      const call =
        queued ??
        (await new Promise<PendingCall>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no AI call arrived')), timeoutMs);
          this.#waiters.push((arrived) => {
            clearTimeout(timer);
            resolve(arrived);
          });
        }));
      if (!call.signal.aborted) return call;
    }
  }

  async reply(text: string, confidence = 0.9, lowConfidence = false): Promise<ReplyRequest> {
    const call = await this.nextCall();
    call.resolve({ kind: 'reply', text, confidence, lowConfidence, chunks: [] });
    return call.request;
  }

  async fallback(reason: 'keyword' | 'unsupported' | 'low_confidence' = 'keyword'): Promise<ReplyRequest> {
    const call = await this.nextCall();
    call.resolve({ kind: 'fallback', reason, evidence: { rule: 'scripted' } });
    return call.request;
  }

  get waiting(): number {
    return this.#pending.filter((call) => !call.signal.aborted).length;
  }
}
