/**
 * Postgres text and jsonb cannot hold U+0000 or an unpaired UTF-16 surrogate, both of which a JSON body
 * may carry as `\u0000` and `\ud83d`. Left in, one such message would make its whole insert fail on
 * every redelivery; replaced by U+FFFD, as a UTF-8 decoder does with bytes it cannot read, it is stored.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is one of the characters to find.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Deeper than any Meta message object; JSON nested past it is refused rather than overflowing a stack. */
const MAX_DEPTH = 32;

export class UnstorableJsonError extends Error {
  override readonly name = 'UnstorableJsonError';
}

export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\uFFFD');
}

export function storableJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) throw new UnstorableJsonError(`nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) return value.map((item) => storableJson(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [storableText(key), storableJson(item, depth + 1)]),
  );
}
