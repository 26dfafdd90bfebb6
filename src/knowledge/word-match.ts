/**
 * Whether two words are forms of one another ("hours" and "hour", "envío" and "envíos", "open" and "opening"):
 * the knowledge base's stemmer is in Postgres, so this is a rough stand-in. Short words must match exactly
 * (or as plurals), longer ones share most of the shorter word as a prefix.
 */
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.length <= 3) return long === `${short}s` || long === `${short}es`;
  let common = 0;
  while (common < short.length && short[common] === long[common]) common++;
  return common >= 4 && common >= Math.ceil(short.length * 0.6);
}

/** Whether `words` hold a form of `word`. */
export const holdsWord = (words: readonly string[], word: string): boolean =>
  words.some((candidate) => sameWord(word, candidate));

/** Whether `words` hold a term of a question: any of its alternatives, in any form. */
export const holdsTerm = (term: readonly string[], words: readonly string[]): boolean =>
  term.some((alternative) => holdsWord(words, alternative));
