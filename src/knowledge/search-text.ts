/** Only the combining accents of Latin, Greek and Cyrillic letters: in other scripts the marks are letters. */
const ACCENTS = /[\u0300-\u036f]/g;
const HYPHENATED = /(\p{L}+)-(\p{L}+)/gu;

/**
 * Text as the index and the queries see it. Accents off: customers type "envio" as often as "envío", and
 * Postgres' stemmers keep accents. Hyphenated words also appear joined ("Wi-Fi" is found as "wifi"), since
 * the parser splits them into parts and people write them both ways.
 */
export function searchableText(text: string): string {
  return text.normalize('NFD').replace(ACCENTS, '').normalize('NFC').replace(HYPHENATED, '$1-$2 $1$2');
}

/**
 * A tsquery, in Postgres' input syntax, matching any of `lexemes` exactly as given: they are already normalized
 * by `to_tsvector`, and the cast does not normalize again. Quoting makes any character safe in a lexeme.
 */
export function anyLexemeQuery(lexemes: string[]): string {
  return lexemes.map((lexeme) => `'${lexeme.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`).join(' | ');
}
