import { describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../src/gateway/agent-api-schemas.ts';
import { teamQueues } from '../../src/gateway/team-queues.ts';

function waitingFor(teamId: string | null, sessionId: string): SessionSummary {
  return {
    sessionId,
    state: 'fallback',
    customer: { waId: '1', name: null },
    phoneNumberId: '100001',
    handoff: {
      reason: 'keyword',
      requestedAt: 0,
      teamId,
      agentId: null,
      takenAt: null,
      customerNotifiedAt: null,
    },
    waitingMs: 0,
    lastMessage: null,
    serviceWindowEndsAt: null,
    updatedAt: 0,
  };
}

describe('teamQueues', () => {
  it("puts the agent's teams first (empty ones too), then sessions of no team, then other teams by id", () => {
    const waiting = [
      waitingFor('sales', 's1'),
      waitingFor(null, 'n1'),
      waitingFor('billing', 'b1'),
      waitingFor('sales', 's2'),
      waitingFor('support', 'p1'),
    ];
    const shape = teamQueues(waiting, ['support', 'vip']).map((queue) => [
      queue.teamId,
      queue.own,
      queue.waiting.map((summary) => summary.sessionId),
    ]);
    expect(shape).toEqual([
      ['support', true, ['p1']],
      ['vip', true, []],
      [null, true, ['n1']],
      ['billing', false, ['b1']],
      ['sales', false, ['s1', 's2']],
    ]);
  });
});
