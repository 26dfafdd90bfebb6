import type { SessionSummary, TeamQueue } from './agent-api-schemas.ts';

/**
 * Waiting sessions as an agent works them: a queue per team, the agent's own teams first (even when nobody
 * waits in them, so the agent sees that), then sessions routed to no team, which are everybody's, then the
 * other teams with someone waiting, by team id. Other teams' queues stay visible so an agent can help out
 * when a team is swamped; taking one over is allowed. Order within a queue is the order given (oldest first).
 * Shared by the agent API and the inbox page, which regroups as live events move sessions.
 */
export function teamQueues(waiting: readonly SessionSummary[], ownTeamIds: readonly string[]): TeamQueue[] {
  const byTeam = new Map<string | null, SessionSummary[]>();
  for (const summary of waiting) {
    const teamId = summary.handoff?.teamId ?? null;
    const queue = byTeam.get(teamId);
    if (queue) queue.push(summary);
    else byTeam.set(teamId, [summary]);
  }
  const queue = (teamId: string | null, own: boolean): TeamQueue => ({
    teamId,
    own,
    waiting: byTeam.get(teamId) ?? [],
  });
  const others = [...byTeam.keys()]
    .filter((teamId): teamId is string => teamId !== null && !ownTeamIds.includes(teamId))
    .sort();
  return [
    ...ownTeamIds.map((teamId) => queue(teamId, true)),
    ...(byTeam.has(null) ? [queue(null, true)] : []),
    ...others.map((teamId) => queue(teamId, false)),
  ];
}
