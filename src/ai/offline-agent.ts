import type { KnowledgeSearch } from '../knowledge/knowledge-search.ts';
import { answerFromPassages } from '../knowledge/passage-answer.ts';
import { searchQuery } from '../knowledge/query-words.ts';
import type { CustomerMessage, ReplyRequest } from '../machines/session.ts';
import type { AgentSettings } from './agent-settings.ts';
import {
  detectFallbackAfterAnswer,
  detectFallbackBeforeAnswer,
  isWeakAnswer,
  normalizeText,
} from './fallback-rules.ts';
import type { ReplyAgent, ReplyOutcome } from './reply-agent.ts';

export interface OfflineAgentOptions {
  knowledge: KnowledgeSearch;
  settingsFor(workspaceId: string): AgentSettings;
  /** Passages looked at per turn. */
  passages?: number;
  /** WhatsApp shows long messages folded: answers are cut to this. */
  maxChars?: number;
}

type SmallTalk = 'greeting' | 'thanks' | 'goodbye' | 'yes';
type ReplyLanguage = 'english' | 'spanish' | 'portuguese';

/** Phrases that make up a whole message of small talk, by language; a message may mix them ("ok thanks"). */
const SMALL_TALK_PHRASES: Record<ReplyLanguage, Record<SmallTalk, string[]>> = {
  english: {
    greeting: ['hi', 'hello', 'hey', 'hiya', 'howdy', 'good morning', 'good afternoon', 'good evening'],
    thanks: [
      'thanks',
      'thank you',
      'thx',
      'ty',
      'cheers',
      'ok',
      'okay',
      'great',
      'perfect',
      'cool',
      'got it',
    ],
    goodbye: ['bye', 'goodbye', 'see you', 'no thanks', 'no thank you', 'no'],
    yes: ['yes', 'yeah', 'yep', 'sure'],
  },
  spanish: {
    greeting: ['hola', 'buenas', 'buenos dias', 'buenas tardes', 'buenas noches', 'que tal'],
    thanks: ['gracias', 'muchas gracias', 'mil gracias', 'vale', 'ok', 'perfecto', 'genial', 'de acuerdo'],
    goodbye: ['adios', 'chao', 'hasta luego', 'hasta pronto', 'no gracias', 'no'],
    yes: ['si', 'claro', 'dale'],
  },
  portuguese: {
    greeting: ['ola', 'oi', 'bom dia', 'boa tarde', 'boa noite', 'tudo bem'],
    thanks: ['obrigado', 'obrigada', 'muito obrigado', 'muito obrigada', 'valeu', 'ok', 'perfeito', 'beleza'],
    goodbye: ['tchau', 'ate logo', 'ate mais', 'nao obrigado', 'nao obrigada', 'nao'],
    yes: ['sim', 'claro'],
  },
};

/** Words that pad small talk without changing it: "hi there", "thank you so much", "muchas gracias a todos". */
const PADDING = new Set(['there', 'so', 'much', 'very', 'a', 'lot', 'all', 'again', 'you', 'todos']);

const SMALL_TALK_REPLIES: Record<ReplyLanguage, Record<SmallTalk, string>> = {
  english: {
    greeting: 'Hi! 👋 How can I help you today?',
    thanks: "You're welcome! Is there anything else I can help you with?",
    goodbye: 'Thanks for writing! Have a nice day. 👋',
    yes: 'Sure! What would you like to know?',
  },
  spanish: {
    greeting: '¡Hola! 👋 ¿En qué puedo ayudarte?',
    thanks: '¡De nada! ¿Puedo ayudarte con algo más?',
    goodbye: '¡Gracias por escribirnos! Que tengas un buen día. 👋',
    yes: '¡Claro! ¿Qué te gustaría saber?',
  },
  portuguese: {
    greeting: 'Olá! 👋 Como posso ajudar?',
    thanks: 'De nada! Posso ajudar com mais alguma coisa?',
    goodbye: 'Obrigado pelo contato! Tenha um bom dia. 👋',
    yes: 'Claro! O que você gostaria de saber?',
  },
};

/** When a burst mixes kinds, the last word of a conversation matters most: a thank-you outranks a hello. */
const KIND_PRIORITY: SmallTalk[] = ['goodbye', 'thanks', 'greeting', 'yes'];
const LANGUAGES = Object.keys(SMALL_TALK_PHRASES) as ReplyLanguage[];
const EMOJI = /\p{Extended_Pictographic}/u;

interface SmallTalkMatch {
  kinds: Set<SmallTalk>;
  /** The languages every phrase of the message belongs to. */
  languages: ReplyLanguage[];
}

/** Whether the message is nothing but small talk (an emoji alone counts as a thumbs-up), and of which kind. */
function smallTalkOf(text: string): SmallTalkMatch | null {
  const words = normalizeText(text)
    .split(' ')
    .filter((word) => word !== '');
  if (words.length === 0)
    return EMOJI.test(text) ? { kinds: new Set(['thanks']), languages: LANGUAGES } : null;
  const kinds = new Set<SmallTalk>();
  let languages = LANGUAGES;
  let at = 0;
  while (at < words.length) {
    if (PADDING.has(words[at]!)) {
      at++;
      continue;
    }
    // The longest phrase starting here, in any language.
    let best: { length: number; kind: SmallTalk; languages: ReplyLanguage[] } | null = null;
    for (const language of LANGUAGES) {
      for (const [kind, phrases] of Object.entries(SMALL_TALK_PHRASES[language]) as [SmallTalk, string[]][]) {
        for (const phrase of phrases) {
          const parts = phrase.split(' ');
          if (!parts.every((part, i) => words[at + i] === part)) continue;
          if (best === null || parts.length > best.length)
            best = { length: parts.length, kind, languages: [] };
          if (parts.length === best.length && best.kind === kind) best.languages.push(language);
        }
      }
    }
    if (best === null) return null;
    const phrase = best;
    kinds.add(phrase.kind);
    const shared = languages.filter((language) => phrase.languages.includes(language));
    if (shared.length > 0) languages = shared;
    at += phrase.length;
  }
  return kinds.size > 0 ? { kinds, languages } : null;
}

function smallTalkReply(matches: SmallTalkMatch[], workspaceLanguage: string): string {
  const kind = KIND_PRIORITY.find((candidate) => matches.some((match) => match.kinds.has(candidate)))!;
  const candidates = LANGUAGES.filter((language) =>
    matches.every((match) => match.languages.includes(language)),
  );
  // "ok" or an emoji could be any language: the workspace's says which.
  const language =
    candidates.find((candidate) => candidate === workspaceLanguage) ??
    candidates[0] ??
    LANGUAGES.find((candidate) => candidate === workspaceLanguage) ??
    'english';
  return SMALL_TALK_REPLIES[language][kind];
}

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
    const texts = request.unanswered.map(textOf).filter((text) => text !== null);
    const smallTalk = texts.map(smallTalkOf);
    const onlySmallTalk = texts.length > 0 && smallTalk.every((match) => match !== null);
    const before = detectFallbackBeforeAnswer({
      unanswered: request.unanswered,
      history: request.history,
      settings: settings.fallback,
    });
    // Saying thanks after every answer is good manners, not a loop.
    if (before && !(onlySmallTalk && before.reason === 'loop')) return { kind: 'fallback', ...before };

    if (onlySmallTalk) {
      return {
        kind: 'reply',
        text: smallTalkReply(
          smallTalk.filter((match) => match !== null),
          settings.language,
        ),
        confidence: 1,
        lowConfidence: false,
        chunks: [],
      };
    }

    // A burst is one question: "hi" / "I ordered beans" / "when do they ship?" is searched as a whole.
    const question = texts.filter((_, i) => smallTalk[i] === null).join('\n');
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
      minRelevance: settings.fallback.minRelevance,
    });
    if (after) return { kind: 'fallback', ...after };
    if (!found)
      throw new Error('the knowledge base returned passages but no answer could be taken from them');
    return {
      kind: 'reply',
      text: found.text,
      confidence,
      lowConfidence: isWeakAnswer(confidence, settings.confidenceThreshold),
      chunks: found.chunks,
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
