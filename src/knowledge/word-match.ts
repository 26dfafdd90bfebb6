/**
 * Whether two words are forms of one another ("hours" and "hour", "envío" and "envíos", "open" and "opening"):
 * the knowledge base's stemmer is in Postgres, so this is a rough stand-in. Short words must match exactly
 * (or as plurals), longer ones share most of the shorter word as a prefix.
 */
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  // Every rule below needs the same first letter: most pairs end here (this runs for every word of every
  // passage an answer reads).
  if (a.charCodeAt(0) !== b.charCodeAt(0) && a !== '' && b !== '') return false;
  const short = a.length <= b.length ? a : b;
  const long = short === a ? b : a;
  if (short.length <= 3) return long === `${short}s` || long === `${short}es`;
  let common = 0;
  while (common < short.length && short.charCodeAt(common) === long.charCodeAt(common)) common++;
  return common >= 4 && common >= Math.ceil(short.length * 0.6);
}

/** Whether `words` hold a form of `word`. */
export function holdsWord(words: readonly string[], word: string): boolean {
  for (const candidate of words) if (sameWord(word, candidate)) return true;
  return false;
}

/** Whether `words` hold a term of a question: any of its alternatives, in any form. */
export const holdsTerm = (term: readonly string[], words: readonly string[]): boolean =>
  term.some((alternative) => holdsWord(words, alternative));
