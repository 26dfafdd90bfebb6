import { Pool } from 'undici';
import { signWebhookBody } from '../../src/whatsapp/webhook-signature.ts';

export interface Ack {
  /** 0 when no answer came (connection refused, timeout). */
  status: number;
  /** From when the request was due (not when it left) to the end of the answer: queueing counts. */
  latencyMs: number;
}

/** Signs and posts webhooks as Meta does, over a keep-alive pool of connections to one gateway. */
export class WebhookSender {
  readonly #pool: Pool;
  readonly #appSecret: string;
  readonly #path: string;
  #inFlight = 0;

  constructor(origin: string, options: { appSecret: string; connections: number; path?: string }) {
    if (!origin.startsWith('http://127.0.0.1:'))
      throw new Error(`the benchmark only sends to 127.0.0.1: ${origin}`);
    this.#pool = new Pool(origin, {
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    this.#appSecret = options.appSecret;
    this.#path = options.path ?? '/webhooks/whatsapp';
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The signature header for a body; a duplicate delivery reuses it, as Meta's retries do. */
  sign(body: Buffer): string {
    return signWebhookBody(body, this.#appSecret);
  }

  async post(body: Buffer, signature: string, dueAt = performance.now()): Promise<Ack> {
    this.#inFlight++;
    try {
      const response = await this.#pool.request({
        path: this.#path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        body,
      });
      await response.body.dump();
      return { status: response.statusCode, latencyMs: performance.now() - dueAt };
    } catch {
      return { status: 0, latencyMs: performance.now() - dueAt };
    } finally {
      this.#inFlight--;
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
