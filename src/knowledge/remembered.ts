/**
 * `compute` remembered per key (by default its first argument): the offline agent splits, normalizes and cuts
 * the same few texts (knowledge passages, configured keywords, a turn's own messages) on every answer. At most
 * `limit` keys are kept; past it the memory starts over, which bounds it without the bookkeeping of an LRU.
 * What is remembered is shared by every later caller, so `compute` returns values nobody changes (frozen ones,
 * or strings).
 */
export function remembered<A extends readonly unknown[], V>(
  limit: number,
  compute: (...args: A) => V,
  keyOf: (...args: A) => string = (...args) => String(args[0]),
): (...args: A) => V {
  const values = new Map<string, V>();
  return (...args) => {
    const key = keyOf(...args);
    let value = values.get(key);
    if (value === undefined) {
      value = compute(...args);
      if (values.size >= limit) values.clear();
      values.set(key, value);
    }
    return value;
  };
}
