import type { FallbackReason, ReplyRequest } from '../machines/session.ts';

/** What an AI agent decides for a turn. Failures are outcomes too (`ai_error`), never exceptions. */
export type ReplyOutcome =
  | { kind: 'reply'; text: string; confidence: number; lowConfidence: boolean; chunks: string[] }
  | { kind: 'fallback'; reason: FallbackReason; evidence: Record<string, unknown> };

/** The AI agent port: the Anthropic adapter and the offline knowledge-base responder implement it. */
export interface ReplyAgent {
  generateReply(request: ReplyRequest, signal: AbortSignal): Promise<ReplyOutcome>;
}
