import type { CustomerMessage } from '../machines/session.ts';
import { normalizeText } from './fallback-rules.ts';

/**
 * What a message of small talk does: greet, thank (an acknowledgement too), say goodbye, agree, or only nudge
 * the conversation (an emoji nobody can read a question in, a reaction taken back).
 */
type SmallTalkKind = 'greeting' | 'thanks' | 'goodbye' | 'yes' | 'nudge';
type ReplyLanguage = 'english' | 'spanish' | 'portuguese';

/** Phrases that make up a whole message of small talk, by language; a message may mix them ("ok thanks"). */
const SMALL_TALK_PHRASES: Record<ReplyLanguage, Record<Exclude<SmallTalkKind, 'nudge'>, string[]>> = {
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

const SMALL_TALK_REPLIES: Record<ReplyLanguage, Record<SmallTalkKind, string>> = {
  english: {
    greeting: 'Hi! 👋 How can I help you today?',
    thanks: "You're welcome! Is there anything else I can help you with?",
    goodbye: 'Thanks for writing! Have a nice day. 👋',
    yes: 'Sure! What would you like to know?',
    nudge: 'Is there anything I can help you with?',
  },
  spanish: {
    greeting: '¡Hola! 👋 ¿En qué puedo ayudarte?',
    thanks: '¡De nada! ¿Puedo ayudarte con algo más?',
    goodbye: '¡Gracias por escribirnos! Que tengas un buen día. 👋',
    yes: '¡Claro! ¿Qué te gustaría saber?',
    nudge: '¿Hay algo en lo que pueda ayudarte?',
  },
  portuguese: {
    greeting: 'Olá! 👋 Como posso ajudar?',
    thanks: 'De nada! Posso ajudar com mais alguma coisa?',
    goodbye: 'Obrigado pelo contato! Tenha um bom dia. 👋',
    yes: 'Claro! O que você gostaria de saber?',
    nudge: 'Posso ajudar com alguma coisa?',
  },
};

/** When a burst mixes kinds, the last word of a conversation matters most: a thank-you outranks a hello. */
const KIND_PRIORITY: SmallTalkKind[] = ['goodbye', 'thanks', 'greeting', 'yes', 'nudge'];
const LANGUAGES = Object.keys(SMALL_TALK_PHRASES) as ReplyLanguage[];

/** Every phrase split into words once, found by its first word: each customer message is read against them. */
const PHRASES_BY_FIRST_WORD = new Map<
  string,
  { parts: string[]; kind: SmallTalkKind; language: ReplyLanguage }[]
>();
for (const language of LANGUAGES) {
  for (const [kind, phrases] of Object.entries(SMALL_TALK_PHRASES[language]) as [SmallTalkKind, string[]][]) {
    for (const phrase of phrases) {
      const parts = phrase.split(' ');
      const entries = PHRASES_BY_FIRST_WORD.get(parts[0]!) ?? [];
      entries.push({ parts, kind, language });
      PHRASES_BY_FIRST_WORD.set(parts[0]!, entries);
    }
  }
}

const EMOJI = /\p{Extended_Pictographic}/gu;
/** What dresses an emoji up without changing what it says: skin tones, variation selectors, joiners, keycaps. */
const EMOJI_PARTS = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\uFE0E|\uFE0F|\u200D|\u20E3/gu;
/** A thumbs-up, a heart, a smile: thanks, or "ok". */
const APPROVING = new Set([
  ...'👍👌🙏❤♥💕💖💗💓💞💙💚💛🧡💜🤍🖤🫶😊🙂☺😀😃😄😁😆😅😂🤣🥰😍😘😗😙😚🤗😉😎😇🤩😌🥳🙌👏💯✅✔⭐🌟✨🎉🎊💪🤝😋',
]);
const WAVING = new Set([...'👋🖐✋']);
/** Anger, disgust, tears, a thumbs-down: the customer is upset, which a person should see to. */
const UPSET = new Set([...'😡😠🤬👎😤😒😞😔😢😭💔🙄😩😫☹🙁😟😕😣😖😾🤦🤮🤢😿']);

export interface SmallTalk {
  kinds: Set<SmallTalkKind>;
  /** The languages every phrase of the message belongs to. */
  languages: ReplyLanguage[];
  /** The emoji that says the customer is upset, if one does. */
  upset: string | null;
}

function phrasesOf(words: string[]): Pick<SmallTalk, 'kinds' | 'languages'> | null {
  const kinds = new Set<SmallTalkKind>();
  let languages = LANGUAGES;
  let at = 0;
  while (at < words.length) {
    if (PADDING.has(words[at]!)) {
      at++;
      continue;
    }
    // The longest phrase starting here, in any language.
    let best: { length: number; kind: SmallTalkKind; languages: ReplyLanguage[] } | null = null;
    for (const { parts, kind, language } of PHRASES_BY_FIRST_WORD.get(words[at]!) ?? []) {
      if (!parts.every((part, i) => words[at + i] === part)) continue;
      if (best === null || parts.length > best.length) best = { length: parts.length, kind, languages: [] };
      if (parts.length === best.length && best.kind === kind) best.languages.push(language);
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

/**
 * Whether the message is nothing but small talk, and of which kind. An emoji alone says what it shows: a
 * thumbs-up thanks, a wave greets, an emoji nobody can read a question in only nudges. A reaction is its emoji;
 * a reaction taken back, like a customer opening the chat (`request_welcome`), says nothing to answer with facts.
 */
export function smallTalkOf(message: Pick<CustomerMessage, 'type' | 'text'>): SmallTalk | null {
  const text = message.text?.trim() ?? '';
  if (text === '') {
    if (message.type === 'reaction') return { kinds: new Set(['nudge']), languages: LANGUAGES, upset: null };
    if (message.type === 'request_welcome') {
      return { kinds: new Set(['greeting']), languages: LANGUAGES, upset: null };
    }
    return null;
  }
  const emoji = text.match(EMOJI) ?? [];
  const upset = emoji.find((symbol) => UPSET.has(symbol)) ?? null;
  const words = normalizeText(text.replace(EMOJI_PARTS, ' '))
    .split(' ')
    .filter((word) => word !== '');
  if (words.length > 0) {
    const phrases = phrasesOf(words);
    return phrases && { ...phrases, upset };
  }
  if (emoji.length === 0) return null;
  const kind: SmallTalkKind = emoji.some((symbol) => APPROVING.has(symbol))
    ? 'thanks'
    : emoji.some((symbol) => WAVING.has(symbol))
      ? 'greeting'
      : 'nudge';
  return { kinds: new Set([kind]), languages: LANGUAGES, upset };
}

/** The reply to a burst of small talk, in the language its phrases share, else the workspace's. */
export function smallTalkReply(matches: SmallTalk[], workspaceLanguage: string): string {
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
