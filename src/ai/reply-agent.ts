import type { FallbackReason, ReplyRequest } from '../machines/session.ts';
import type { TokenUsage } from './token-usage.ts';

/**
 * Why the agent answered, recorded with the answer so a person can see it, as a fallback's evidence is: the
 * rule, how the confidence was judged, and the knowledge the turn found.
 */
export type ReplyEvidence = {
  /** `answered` from the knowledge base, or `small_talk` (a greeting, thanks, an emoji: no facts needed). */
  rule: 'answered' | 'small_talk';
  /** Within the weak margin above the threshold: counts towards `maxLowConfidenceTurns`. */
  weak: boolean;
  /** The workspace's `confidenceThreshold` the confidence was judged against. */
  threshold: number;
  /** The best knowledge hits the turn found, best first, at most three. */
  hits: { id: string; score: number }[];
  /** The Anthropic agent's model calls for this answer. */
  usage?: TokenUsage;
};

/** What an AI agent decides for a turn. Failures are outcomes too (`ai_error`), never exceptions. */
export type ReplyOutcome =
  | {
      kind: 'reply';
      text: string;
      confidence: number;
      lowConfidence: boolean;
      chunks: string[];
      evidence?: ReplyEvidence;
    }
  | { kind: 'fallback'; reason: FallbackReason; evidence: Record<string, unknown> };

/** The AI agent port: the Anthropic adapter and the offline knowledge-base responder implement it. */
export interface ReplyAgent {
  generateReply(request: ReplyRequest, signal: AbortSignal): Promise<ReplyOutcome>;
}

/** The best hits of a turn as a reply's evidence records them. */
export const topHits = (hits: { id: string; score: number }[]): ReplyEvidence['hits'] =>
  [...hits]
    .sort((a, b) => b.score - a.score)
    .slice(0, 3)
    .map((hit) => ({ id: hit.id, score: hit.score }));
