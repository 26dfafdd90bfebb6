import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from '../../src/whatsapp/webhook-signature.ts';
import { metaFixtureBytes } from './meta-fixtures.ts';

const SECRET = 'app-secret-from-the-meta-dashboard';
const body = metaFixtureBytes('text-message.json');
const signature = signWebhookBody(body, SECRET);
const hex = signature.slice('sha256='.length);

describe('signWebhookBody', () => {
  it('produces the X-Hub-Signature-256 value: sha256= and the hex HMAC-SHA256 of the body', () => {
    // The published example of this header scheme (GitHub's webhook documentation uses the same one).
    expect(signWebhookBody(Buffer.from('Hello, World!'), "It's a Secret to Everybody")).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });
});

describe('verifyWebhookSignature', () => {
  it('accepts the signature of the body', () => {
    expect(verifyWebhookSignature(body, signature, SECRET)).toBe(true);
  });

  it('accepts the signature in uppercase hex', () => {
    expect(verifyWebhookSignature(body, `sha256=${hex.toUpperCase()}`, SECRET)).toBe(true);
  });

  it('rejects a body with one byte changed', () => {
    const tampered = Buffer.from(body);
    const at = tampered.indexOf('opening');
    tampered[at] = 'O'.charCodeAt(0);
    expect(verifyWebhookSignature(tampered, signature, SECRET)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyWebhookSignature(body, signWebhookBody(body, 'another-app-secret'), SECRET)).toBe(false);
  });

  it('rejects a request without the header', () => {
    expect(verifyWebhookSignature(body, undefined, SECRET)).toBe(false);
  });

  it('fails closed when the app secret is empty, even for a body signed with it', () => {
    expect(verifyWebhookSignature(body, signWebhookBody(body, ''), '')).toBe(false);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['prefix only', 'sha256='],
    ['hex without prefix', hex],
    ['SHA-1 header', `sha1=${hex.slice(0, 40)}`],
    ['uppercase prefix', `SHA256=${hex}`],
    ['space after prefix', `sha256= ${hex}`],
    ['trailing space', `${signature} `],
    ['non-hex character', `sha256=${hex.slice(0, -1)}g`],
    ['one hex digit short', signature.slice(0, -1)],
    ['one hex digit long', `${signature}0`],
    ['half the digest', `sha256=${hex.slice(0, 32)}`],
    ['two headers joined by the HTTP layer', `${signature}, ${signature}`],
  ])('rejects a malformed header: %s', (_, header) => {
    expect(verifyWebhookSignature(body, header, SECRET)).toBe(false);
  });

  it('checks the bytes Meta sent, not JSON re-serialized from them', () => {
    const raw = metaFixtureBytes('unicode-escapes-message.json');
    expect(raw.toString('utf8')).toContain('cr\\u00e8me br\\u00fbl\\u00e9e');
    expect(raw.toString('utf8')).toContain('\\ud83d\\ude0a https:\\/\\/example.com');
    const header = signWebhookBody(raw, SECRET);
    expect(verifyWebhookSignature(raw, header, SECRET)).toBe(true);

    const reserialized = Buffer.from(`${JSON.stringify(JSON.parse(raw.toString('utf8')))}\n`);
    expect(JSON.parse(reserialized.toString('utf8'))).toEqual(JSON.parse(raw.toString('utf8')));
    expect(verifyWebhookSignature(reserialized, header, SECRET)).toBe(false);
  });

  it('verifies any body it signed, and no other', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1 }),
        fc.nat(),
        fc.string({ minLength: 1 }),
        (bytes, at, secret) => {
          const signed = Buffer.from(bytes);
          const header = signWebhookBody(signed, secret);
          const tampered = Buffer.from(signed);
          const index = at % tampered.length;
          tampered[index] = (tampered[index] ?? 0) ^ 0xff;
          return (
            verifyWebhookSignature(signed, header, secret) &&
            !verifyWebhookSignature(tampered, header, secret)
          );
        },
      ),
    );
  });

  it('never accepts a random signature', () => {
    const wellFormed = fc.stringMatching(/^[0-9a-f]{64}$/).map((digits) => `sha256=${digits}`);
    fc.assert(
      fc.property(
        fc.oneof(
          wellFormed,
          fc.string(),
          fc.string().map((s) => `sha256=${s}`),
        ),
        (header) => {
          return header === signature || !verifyWebhookSignature(body, header, SECRET);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
