import { createHmac, timingSafeEqual } from 'node:crypto';

// Meta signs with HMAC-SHA256 and sends lowercase hex; uppercase is accepted because hex is case-free.
const SIGNATURE_HEADER = /^sha256=([0-9a-fA-F]{64})$/;

function hmac(rawBody: Buffer, appSecret: string): Buffer {
  return createHmac('sha256', appSecret).update(rawBody).digest();
}

/** The `X-Hub-Signature-256` value Meta would send for this body: for tests, the sandbox and the benchmark. */
export function signWebhookBody(rawBody: Buffer, appSecret: string): string {
  return `sha256=${hmac(rawBody, appSecret).toString('hex')}`;
}

/**
 * Checks Meta's `X-Hub-Signature-256` against the body exactly as received. It must be the raw bytes: Meta
 * escapes non-ASCII characters and slashes (`\u00e9`, `\/`), so re-serialized JSON never matches.
 */
export function verifyWebhookSignature(
  rawBody: Buffer,
  header: string | undefined,
  appSecret: string,
): boolean {
  // An empty secret would make every forger's signature valid: fail closed instead of trusting a misconfiguration.
  if (appSecret === '' || header === undefined) return false;
  const match = SIGNATURE_HEADER.exec(header);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1], 'hex');
  const expected = hmac(rawBody, appSecret);
  // timingSafeEqual throws on different lengths; the comparison itself must not leak where the bytes differ.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
