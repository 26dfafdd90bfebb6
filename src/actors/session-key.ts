/**
 * A session key names the conversation of one customer with one phone number. One actor owns a key;
 * each session (first message to close) of that conversation is a row with its own id under the key.
 * Both parts are digits, so the key is a single NATS subject token.
 */
export function sessionKeyOf(phoneNumberId: string, customerWaId: string): string {
  return `${phoneNumberId}-${customerWaId}`;
}

/** The inverse of `sessionKeyOf`: both parts are digits, so the first "-" separates them. */
export function parseSessionKey(sessionKey: string): { phoneNumberId: string; customerWaId: string } {
  const separator = sessionKey.indexOf('-');
  return { phoneNumberId: sessionKey.slice(0, separator), customerWaId: sessionKey.slice(separator + 1) };
}

export const PARTITION_COUNT = 64;

/** A stable hash (FNV-1a, 32 bit) of the key, modulo the fixed partition count. */
export function partitionOf(sessionKey: string, partitions = PARTITION_COUNT): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < sessionKey.length; i++) {
    hash ^= sessionKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
