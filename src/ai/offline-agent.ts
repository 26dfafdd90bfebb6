import type { KnowledgeSearch } from '../knowledge/knowledge-search.ts';
import { answerFromPassages } from '../knowledge/passage-answer.ts';
import { searchQuery } from '../knowledge/query-words.ts';
import { uncoveredSubject } from '../knowledge/question-coverage.ts';
import type { CustomerMessage, ReplyRequest } from '../machines/session.ts';
import type { AgentSettings } from './agent-settings.ts';
import { detectFallbackAfterAnswer, detectFallbackBeforeAnswer, isWeakAnswer } from './fallback-rules.ts';
import { type ReplyAgent, type ReplyOutcome, topHits } from './reply-agent.ts';
import { smallTalkOf, smallTalkReply } from './small-talk.ts';

export interface OfflineAgentOptions {
  knowledge: KnowledgeSearch;
  settingsFor(workspaceId: string): AgentSettings;
  /** Passages looked at per turn. */
  passages?: number;
  /** WhatsApp shows long messages folded: answers are cut to this. */
  maxChars?: number;
}

/**
 * The offline agent's confidence is the share of the question a passage holds: one holding under a quarter of it
 * is not about the question at all, whatever the workspace's own floor (which the Anthropic agent shares, where
 * the model judges relevance itself).
 */
const MIN_RELEVANCE = 0.25;

const textOf = (message: CustomerMessage): string | null =>
  message.text !== null && message.text.trim() !== '' ? message.text : null;

/**
 * The AI agent without a language model, the default when no Anthropic key is set: it answers from the best
 * matching passages of the workspace's knowledge base, quoting the few sentences that answer the question, and
 * its confidence is the retrieval score. Small talk gets a short reply without a search. Never throws.
 */
export function createOfflineAgent(options: OfflineAgentOptions): ReplyAgent {
  const { knowledge, settingsFor } = options;
  const passages = options.passages ?? 5;
  const maxChars = options.maxChars ?? 500;

  async function answer(request: ReplyRequest, signal: AbortSignal): Promise<ReplyOutcome> {
    const settings = settingsFor(request.workspaceId);
    const smallTalk = request.unanswered.map(smallTalkOf);
    const onlySmallTalk = smallTalk.length > 0 && smallTalk.every((match) => match !== null);
    const before = detectFallbackBeforeAnswer({
      unanswered: request.unanswered,
      history: request.history,
      settings: settings.fallback,
    });
    // Saying thanks after every answer is good manners, not a loop.
    if (before && !(onlySmallTalk && before.reason === 'loop')) return { kind: 'fallback', ...before };

    if (onlySmallTalk) {
      const matches = smallTalk.filter((match) => match !== null);
      // An angry face or a thumbs-down says more than the words around it: a person should see to it.
      const upset = matches.findIndex((match) => match.upset !== null);
      if (upset >= 0) {
        return {
          kind: 'fallback',
          reason: 'customer_request',
          evidence: {
            rule: 'upset_emoji',
            emoji: matches[upset]!.upset,
            wamid: request.unanswered[upset]!.wamid,
          },
        };
      }
      return {
        kind: 'reply',
        text: smallTalkReply(matches, settings.language),
        confidence: 1,
        lowConfidence: false,
        chunks: [],
        evidence: { rule: 'small_talk', weak: false, threshold: settings.confidenceThreshold, hits: [] },
      };
    }

    // A burst is one question: "hi" / "I ordered beans" / "when do they ship?" is searched as a whole.
    const question = request.unanswered
      .filter((_, i) => smallTalk[i] === null)
      .map(textOf)
      .filter((text) => text !== null)
      .join('\n');
    const query = searchQuery(question);
    const hits = query === '' ? [] : await knowledge.search(request.workspaceId, query, { limit: passages });
    if (signal.aborted) throw new Error('the reply was aborted');
    const found = answerFromPassages(question, hits, { maxChars });
    const confidence = hits[0]?.score ?? 0;
    const after = detectFallbackAfterAnswer({
      confidence,
      threshold: settings.confidenceThreshold,
      lowConfidenceStreak: request.lowConfidenceStreak,
      maxLowConfidenceTurns: settings.fallback.maxLowConfidenceTurns,
      hits,
      citations: found?.chunks ?? [],
      smallTalk: false,
      minRelevance: Math.max(settings.fallback.minRelevance, MIN_RELEVANCE),
      uncoveredSubject: uncoveredSubject(question, hits),
    });
    if (after) return { kind: 'fallback', ...after };
    if (!found)
      throw new Error('the knowledge base returned passages but no answer could be taken from them');
    const weak = isWeakAnswer(confidence, settings.confidenceThreshold);
    return {
      kind: 'reply',
      text: found.text,
      confidence,
      lowConfidence: weak,
      chunks: found.chunks,
      evidence: { rule: 'answered', weak, threshold: settings.confidenceThreshold, hits: topHits(hits) },
    };
  }

  return {
    async generateReply(request, signal) {
      try {
        return await answer(request, signal);
      } catch (error) {
        return {
          kind: 'fallback',
          reason: 'ai_error',
          evidence: { rule: 'ai_error', error: error instanceof Error ? error.message : String(error) },
        };
      }
    },
  };
}
