import { containsKeyword } from '../ai/fallback-rules.ts';
import type { WorkspaceConfig } from '../config/workspace-config.ts';
import type { CustomerMessage, FallbackReason } from '../machines/session.ts';

export type HandoffRule = WorkspaceConfig['handoff']['rules'][number];

/**
 * The team a fallback is queued for: the first rule whose reason and keyword both match, or undefined
 * for the session's default team (`handoff.defaultTeam`, else the workspace's first). A keyword matches
 * the fallback's own keyword (the escalation word the customer used) or any message of the burst the AI
 * was answering.
 */
export function routeHandoff(
  rules: readonly HandoffRule[],
  fallback: { reason: FallbackReason; evidence: Record<string, unknown> },
  unanswered: readonly CustomerMessage[],
): string | undefined {
  const texts = [
    ...(typeof fallback.evidence.keyword === 'string' ? [fallback.evidence.keyword] : []),
    ...unanswered.flatMap((message) => (message.text === null ? [] : [message.text])),
  ];
  const mentions = (keyword: string | undefined) =>
    keyword === undefined || texts.some((text) => containsKeyword(text, keyword));
  const rule = rules.find(
    (candidate) =>
      (candidate.reason === undefined || candidate.reason === fallback.reason) && mentions(candidate.keyword),
  );
  return rule?.team;
}
