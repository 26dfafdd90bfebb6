import type { ReplyAgent } from './reply-agent.ts';

/**
 * Makes every AI call take `latencyMs` longer (BOTRELIC_AI_LATENCY_MS): a stand-in for a slow model, so a
 * benchmark can show that slow AI calls hold up neither the gateway nor other sessions. An aborted call stops
 * waiting at once, as a
 * real request would.
 */
export function withAiLatency(agent: ReplyAgent, latencyMs: number): ReplyAgent {
  if (latencyMs <= 0) return agent;
  return {
    async generateReply(request, signal) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, latencyMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      // The host discards an aborted call's outcome: no point asking the real agent.
      if (signal.aborted) return { kind: 'fallback', reason: 'ai_error', evidence: { error: 'aborted' } };
      return agent.generateReply(request, signal);
    },
  };
}
