import type { WorkspaceConfig } from '../config/workspace-config.ts';
import type { KnowledgeHit } from '../knowledge/knowledge-search.ts';
import { remembered } from '../knowledge/remembered.ts';
import type { CustomerMessage, FallbackReason, HistoryEntry } from '../machines/session.ts';

/** What the fallback rules need from a workspace's settings. */
export interface FallbackSettings {
  /** Words or phrases, in any language, that send the customer to a person. Matched as whole words. */
  keywords: string[];
  /** Meta message types the AI cannot read: it sees text, captions and button titles only. */
  unsupportedTypes: string[];
  /** Reply ids or titles of "talk to a person" buttons and list rows. */
  humanRequestIds: string[];
  maxLowConfidenceTurns: number;
  /** How many of the customer's earlier messages a repeated question is looked for in. */
  loopWindow: number;
  /** Short messages ("yes", "thank you") are repeated in normal conversation: they never count as a loop. */
  loopMinWords: number;
  /** Knowledge hits scoring below this do not count as relevant. */
  minRelevance: number;
}

/**
 * Below threshold the AI falls back; from threshold up to threshold + this margin it answers, but the answer
 * counts as weak: enough weak answers in a row hand the session to a person.
 */
const WEAK_ANSWER_MARGIN = 0.15;

/** Why a rule fired, for the person who picks up the session. Always carries the rule's name. */
type FallbackEvidence = Record<string, unknown> & { rule: string };

export interface FallbackDecision {
  reason: FallbackReason;
  evidence: FallbackEvidence;
}

/** The workspace's settings, with this module's own defaults for the finer points the configuration leaves out. */
export function fallbackSettingsFor(
  workspace: WorkspaceConfig,
  overrides: Partial<FallbackSettings> = {},
): FallbackSettings {
  return {
    keywords: workspace.fallback.keywords,
    unsupportedTypes: workspace.fallback.unsupportedTypes,
    humanRequestIds: workspace.fallback.humanRequestIds,
    maxLowConfidenceTurns: workspace.fallback.maxLowConfidenceTurns,
    loopWindow: 5,
    loopMinWords: 3,
    minRelevance: 0,
    ...overrides,
  };
}

/**
 * Lowercase, without accents or punctuation, words separated by single spaces. NFKD rather than NFD so
 * compatibility forms (full-width letters, ligatures) fold to plain letters too. Only the combining accents of
 * Latin, Greek and Cyrillic letters are dropped: in scripts like Devanagari or Japanese kana the combining marks
 * are vowels and voicing, part of the word, so they stay.
 */
export const normalizeText: (text: string) => string = remembered(10_000, (text) =>
  text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, ' ')
    .trim(),
);

const wordsOf = (text: string): string[] => {
  const normalized = normalizeText(text);
  return normalized === '' ? [] : normalized.split(' ');
};

// These scripts do not separate words with spaces, so a keyword in them can only be found as a substring.
const UNSPACED_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

export function containsKeyword(text: string, keyword: string): boolean {
  const phrase = wordsOf(keyword);
  if (phrase.length === 0) return false;
  if (UNSPACED_SCRIPT.test(keyword)) return normalizeText(text).includes(phrase.join(' '));
  const words = wordsOf(text);
  for (let start = 0; start + phrase.length <= words.length; start++) {
    if (phrase.every((word, i) => words[start + i] === word)) return true;
  }
  return false;
}

const BUTTON_TYPES = new Set(['interactive', 'button']);

function detectHumanRequest(
  unanswered: CustomerMessage[],
  settings: FallbackSettings,
): FallbackDecision | null {
  // Ids like talk_to_human normalize to "talk to human", so an id and a title compare the same way.
  const wanted = new Map(settings.humanRequestIds.map((id) => [normalizeText(id), id]));
  for (const message of unanswered) {
    if (!BUTTON_TYPES.has(message.type)) continue;
    // The id says what the button means whatever its title reads (titles get reworded and translated).
    const matched = [message.replyId, message.text]
      .filter((said) => typeof said === 'string')
      .map((said) => wanted.get(normalizeText(said)))
      .find((id) => id !== undefined);
    if (matched !== undefined) {
      return {
        reason: 'customer_request',
        evidence: {
          rule: 'human_request_button',
          button: matched,
          ...(message.replyId === undefined ? {} : { replyId: message.replyId }),
          wamid: message.wamid,
        },
      };
    }
  }
  return null;
}

function detectKeyword(unanswered: CustomerMessage[], settings: FallbackSettings): FallbackDecision | null {
  for (const message of unanswered) {
    if (message.text === null) continue;
    const text = message.text;
    const keyword = settings.keywords.find((candidate) => containsKeyword(text, candidate));
    if (keyword !== undefined) {
      return { reason: 'keyword', evidence: { rule: 'keyword', keyword, wamid: message.wamid } };
    }
  }
  return null;
}

function detectUnsupportedType(
  unanswered: CustomerMessage[],
  settings: FallbackSettings,
): FallbackDecision | null {
  const message = unanswered.find((candidate) => settings.unsupportedTypes.includes(candidate.type));
  if (message === undefined) return null;
  return {
    reason: 'unsupported',
    evidence: { rule: 'unsupported_type', type: message.type, wamid: message.wamid },
  };
}

interface EarlierQuestion {
  wamid: string;
  normalized: string;
  answered: boolean;
}

/**
 * The customer's latest messages before this burst, newest first, each marked whether an AI reply followed it.
 * Only since the last handback: a person took over and handed back, so the conversation started afresh.
 */
function earlierQuestions(history: HistoryEntry[], burst: Set<string>, window: number): EarlierQuestion[] {
  const questions: EarlierQuestion[] = [];
  let aiRepliedLater = false;
  for (let i = history.length - 1; i >= 0 && questions.length < window; i--) {
    const entry = history[i]!;
    if (entry.kind === 'handback') break;
    if (entry.kind === 'ai') aiRepliedLater = true;
    if (entry.kind === 'customer' && !burst.has(entry.wamid) && entry.text !== null) {
      questions.push({ wamid: entry.wamid, normalized: normalizeText(entry.text), answered: aiRepliedLater });
    }
  }
  return questions;
}

function detectLoop(
  unanswered: CustomerMessage[],
  history: HistoryEntry[],
  settings: FallbackSettings,
): FallbackDecision | null {
  const earlier = earlierQuestions(history, new Set(unanswered.map((m) => m.wamid)), settings.loopWindow);
  for (const message of unanswered) {
    if (message.text === null) continue;
    const normalized = normalizeText(message.text);
    if (normalized.split(' ').length < settings.loopMinWords) continue;
    const repeated = earlier.find((question) => question.answered && question.normalized === normalized);
    if (repeated !== undefined) {
      return {
        reason: 'loop',
        evidence: {
          rule: 'repeated_question',
          wamid: message.wamid,
          repeats: repeated.wamid,
          question: normalized,
        },
      };
    }
  }
  return null;
}

/**
 * Whether the AI must not even try to answer this burst. The most explicit signal wins: a "talk to a person"
 * button, then an escalation keyword (a caption may carry one), then a message the AI cannot read, then a loop.
 */
export function detectFallbackBeforeAnswer(input: {
  unanswered: CustomerMessage[];
  history: HistoryEntry[];
  settings: FallbackSettings;
}): FallbackDecision | null {
  const { unanswered, history, settings } = input;
  return (
    detectHumanRequest(unanswered, settings) ??
    detectKeyword(unanswered, settings) ??
    detectUnsupportedType(unanswered, settings) ??
    detectLoop(unanswered, history, settings)
  );
}

/** Answered, but not by much: the caller reports it as `lowConfidence` so the session counts the streak. */
export function isWeakAnswer(confidence: number, threshold: number): boolean {
  // Rounded so that 0.55 + 0.15 is 0.7 and not 0.7000000000000001, which would count 0.7 as weak.
  const ceiling = Math.round((threshold + WEAK_ANSWER_MARGIN) * 1e9) / 1e9;
  return confidence >= threshold && confidence < ceiling;
}

export interface AnswerAssessment {
  /** The model's own confidence in its answer, 0..1. */
  confidence: number;
  threshold: number;
  /** Weak answers in a row before this one. */
  lowConfidenceStreak: number;
  maxLowConfidenceTurns: number;
  /** Every knowledge hit the model was shown during the turn. */
  hits: KnowledgeHit[];
  /** The chunk ids the model says its answer rests on. */
  citations: string[];
  /** Greetings, thanks and goodbyes need no knowledge, so they are exempt from the knowledge rules. */
  smallTalk: boolean;
  minRelevance: number;
  /**
   * The words naming what the question is about, when the knowledge base holds none of them (see
   * `uncoveredSubject`); null or absent when it holds some, or when the agent does not tell.
   */
  uncoveredSubject?: string[] | null;
}

const hitSummary = (hits: KnowledgeHit[]) => hits.map((hit) => ({ id: hit.id, score: hit.score }));

/** Whether the model's answer must not reach the customer. Knowledge rules come first: they say more. */
export function detectFallbackAfterAnswer(answer: AnswerAssessment): FallbackDecision | null {
  const relevant = answer.hits.filter((hit) => hit.score >= answer.minRelevance);
  if (!answer.smallTalk) {
    if (relevant.length === 0) {
      return {
        reason: 'unsupported',
        evidence: {
          rule: 'no_relevant_knowledge',
          hits: hitSummary(answer.hits),
          minRelevance: answer.minRelevance,
          confidence: answer.confidence,
        },
      };
    }
    const relevantIds = new Set(relevant.map((hit) => hit.id));
    if (!answer.citations.some((id) => relevantIds.has(id))) {
      return {
        reason: 'unsupported',
        evidence: {
          rule: 'uncited_answer',
          citations: answer.citations,
          hits: hitSummary(relevant),
          confidence: answer.confidence,
        },
      };
    }
  }
  if (answer.confidence < answer.threshold) {
    // Under the threshold because the passages share only how the question asks, not what it is about: the
    // knowledge base does not cover it, which a person should hear as such rather than as a weak answer.
    if (!answer.smallTalk && answer.uncoveredSubject && answer.uncoveredSubject.length > 0) {
      return {
        reason: 'unsupported',
        evidence: {
          rule: 'uncovered_subject',
          missing: answer.uncoveredSubject,
          confidence: answer.confidence,
          threshold: answer.threshold,
          hits: hitSummary(relevant),
        },
      };
    }
    return {
      reason: 'low_confidence',
      evidence: {
        rule: 'below_threshold',
        confidence: answer.confidence,
        threshold: answer.threshold,
        chunks: answer.citations,
      },
    };
  }
  // Weak answers in a row are the conversation going round in circles: a loop, whatever each answer's score.
  if (
    isWeakAnswer(answer.confidence, answer.threshold) &&
    answer.lowConfidenceStreak + 1 >= answer.maxLowConfidenceTurns
  ) {
    return {
      reason: 'loop',
      evidence: {
        rule: 'low_confidence_streak',
        confidence: answer.confidence,
        threshold: answer.threshold,
        weakAnswersInARow: answer.lowConfidenceStreak + 1,
        maxLowConfidenceTurns: answer.maxLowConfidenceTurns,
        chunks: answer.citations,
      },
    };
  }
  return null;
}
