import type { SessionNotice } from '../actors/session-notice.ts';
import { type HistoryEntry, SERVICE_WINDOW_MS, type SessionContext } from '../machines/session.ts';
import type { InboxSession, StoredSessionEvent, TranscriptMessage } from '../persistence/inbox-queries.ts';
import type { Decision, HandoffStep, InboxView, SessionSummary, SessionView } from './agent-api-schemas.ts';
import type { AuthenticatedAgent } from './agent-auth.ts';
import { teamQueues } from './team-queues.ts';

/** When WhatsApp stops taking free-form replies: 24 hours after the customer's last message. */
export function serviceWindowEnd(context: SessionContext): number | null {
  return context.lastCustomerMessageAt === null ? null : context.lastCustomerMessageAt + SERVICE_WINDOW_MS;
}

const MESSAGE_KINDS = new Set<HistoryEntry['kind']>(['customer', 'ai', 'agent', 'system']);

export function summarize(session: InboxSession, now: number): SessionSummary {
  const { context } = session;
  const last = context.history.findLast((entry) => MESSAGE_KINDS.has(entry.kind));
  return {
    sessionId: session.id,
    state: session.state,
    customer: { waId: context.customer.waId, name: context.customer.name },
    phoneNumberId: session.phoneNumberId,
    handoff: context.handoff,
    waitingMs:
      session.state === 'fallback' && context.handoff ? Math.max(0, now - context.handoff.requestedAt) : null,
    lastMessage: last && 'text' in last ? last.text : null,
    serviceWindowEndsAt: serviceWindowEnd(context),
    updatedAt: session.updatedAt,
  };
}

/** The team queues (oldest first in each), mine and others': what an agent works from. */
export function buildInbox(
  sessions: InboxSession[],
  agent: AuthenticatedAgent & { available: boolean },
  now: number,
  lastEventId: string,
): InboxView {
  const summaries = sessions.map((session) => summarize(session, now));
  const owner = (summary: SessionSummary) => summary.handoff?.agentId ?? null;
  return {
    agent: { agentId: agent.agentId, name: agent.name, teamIds: agent.teamIds, available: agent.available },
    now,
    lastEventId,
    queues: teamQueues(
      summaries
        .filter((summary) => summary.state === 'fallback')
        .sort((a, b) => (a.handoff?.requestedAt ?? 0) - (b.handoff?.requestedAt ?? 0)),
      agent.teamIds,
    ),
    mine: summaries.filter((summary) => summary.state === 'human' && owner(summary) === agent.agentId),
    others: summaries.filter((summary) => summary.state === 'human' && owner(summary) !== agent.agentId),
  };
}

/**
 * One session for the person working it. Decisions and handoff steps come from the stored session events,
 * not from the snapshot's history, which keeps only the last few turns.
 */
export function buildSessionView(
  session: InboxSession,
  transcript: TranscriptMessage[],
  events: StoredSessionEvent[],
  now: number,
): SessionView {
  const notices = events.map((event) => event.payload as SessionNotice);
  const endsAt = serviceWindowEnd(session.context);
  return {
    session: {
      ...summarize(session, now),
      version: session.version,
      createdAt: session.createdAt,
      closedAt: session.closedAt,
      closedReason: session.context.closedReason,
    },
    transcript,
    decisions: notices.flatMap((notice) => notice.entries.flatMap(toDecision)),
    handoffHistory: notices.flatMap(toHandoffSteps),
    serviceWindow: { endsAt, open: endsAt !== null && now < endsAt },
  };
}

function toDecision(entry: HistoryEntry): Decision[] {
  switch (entry.kind) {
    case 'ai':
      return [
        {
          kind: 'ai',
          at: entry.at,
          text: entry.text,
          confidence: entry.confidence,
          chunks: entry.chunks,
          ...(entry.evidence ? { evidence: entry.evidence } : {}),
        },
      ];
    case 'fallback':
      return [{ kind: 'fallback', at: entry.at, reason: entry.reason, evidence: entry.evidence }];
    case 'handback':
      return [{ kind: 'handback', at: entry.at, agentId: entry.agentId }];
    default:
      return [];
  }
}

function toHandoffSteps(notice: SessionNotice): HandoffStep[] {
  const { handoff } = notice;
  const step = (kind: HandoffStep['kind'], agentId = handoff?.agentId ?? null): HandoffStep => ({
    kind,
    at: notice.at,
    reason: handoff?.reason ?? null,
    teamId: handoff?.teamId ?? null,
    agentId,
  });
  const moved = notice.state !== notice.previousState;
  const steps: HandoffStep[] = [];
  if (moved && notice.state === 'fallback') steps.push(step('requested'));
  if (notice.state === 'fallback' && handoff?.customerNotifiedAt === notice.at) {
    steps.push(step('customer_told_to_wait'));
  }
  if (moved && notice.state === 'human') steps.push(step('taken'));
  const handback = notice.entries.find((entry) => entry.kind === 'handback');
  if (handback) steps.push(step('released', handback.agentId));
  const wasHandedOff = notice.previousState === 'fallback' || notice.previousState === 'human';
  if (moved && notice.state === 'closed' && wasHandedOff) steps.push(step('closed'));
  return steps;
}
