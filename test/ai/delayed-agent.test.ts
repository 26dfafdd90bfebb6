import { describe, expect, it } from 'vitest';
import { withAiLatency } from '../../src/ai/delayed-agent.ts';
import type { ReplyAgent } from '../../src/ai/reply-agent.ts';
import type { ReplyRequest } from '../../src/machines/session.ts';

const request: ReplyRequest = {
  sessionId: 's1',
  workspaceId: 'acme',
  history: [],
  unanswered: [{ wamid: 'wamid.1', type: 'text', text: 'hi', sentAt: 0 }],
  lowConfidenceStreak: 0,
};

function countingAgent(): ReplyAgent & { calls: number } {
  const agent = {
    calls: 0,
    async generateReply() {
      agent.calls++;
      return { kind: 'reply' as const, text: 'hello', confidence: 1, lowConfidence: false, chunks: [] };
    },
  };
  return agent;
}

describe('withAiLatency', () => {
  it('answers like the agent it wraps, that much later', async () => {
    const agent = countingAgent();
    const started = performance.now();
    const outcome = await withAiLatency(agent, 40).generateReply(request, new AbortController().signal);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(outcome).toMatchObject({ kind: 'reply', text: 'hello' });
    expect(agent.calls).toBe(1);
  });

  it('stops waiting when the call is aborted, without asking the agent', async () => {
    const agent = countingAgent();
    const controller = new AbortController();
    const started = performance.now();
    const pending = withAiLatency(agent, 10_000).generateReply(request, controller.signal);
    controller.abort();
    expect(await pending).toMatchObject({ kind: 'fallback', reason: 'ai_error' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(agent.calls).toBe(0);
  });

  it('is the agent itself when there is no latency to add', () => {
    const agent = countingAgent();
    expect(withAiLatency(agent, 0)).toBe(agent);
  });
});
