import { z } from 'zod';
import { parseDuration } from './duration.ts';

/** A whole number within bounds, with a message that says which numbers and what came instead. */
const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().transform((value, ctx) => {
    const number = Number(value);
    if (/^\d+$/.test(value) && number >= min && number <= max) return number;
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    ctx.addIssue({
      code: 'custom',
      message: `expected a whole number ${range}, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  });

const duration = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/**
 * The process environment the engine reads, in one place: the composition root's input.
 * Empty strings count as unset, so `FOO= npm start` behaves like no FOO at all.
 */
const environmentSchema = z
  .object({
    DATABASE_URL: z.string().optional(),
    NATS_URL: z.string().optional(),
    BOTRELIC_DATA_DIR: z.string().default('./data'),
    BOTRELIC_CONFIG: z.string().default('botrelic.yaml'),
    PORT: wholeNumber(0, 65_535).default(3000),
    HOST: z.string().default('127.0.0.1'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ANTHROPIC_API_KEY: z.string().optional(),
    ANTHROPIC_BASE_URL: z.string().url().optional(),
    WHATSAPP_APP_SECRET: z.string().optional(),
    WHATSAPP_VERIFY_TOKEN: z.string().optional(),
    WHATSAPP_GRAPH_URL: z.string().url().default('https://graph.facebook.com/v23.0'),
    BOTRELIC_NODE_NAME: z.string().optional(),
    /** Lets an operator change knowledge documents over the API (`PUT/DELETE …/knowledge/:documentId`). */
    BOTRELIC_ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
    /** Live session actors idle this long are passivated (their state is already stored). */
    BOTRELIC_ACTOR_IDLE_TIMEOUT: duration.default(10 * 60_000),
    /** Beyond this many live actors the least recently used are passivated. */
    BOTRELIC_MAX_LIVE_ACTORS: wholeNumber(1).default(100_000),
    /** Meta redelivers for days after an outage: messages this much older than their arrival are stale. */
    BOTRELIC_STALE_MESSAGE_AGE: duration.default(60 * 60_000),
    /**
     * Postgres: connecting and each statement may take this long, and the webhook answers 503 when its commit
     * does not finish within it, so a database that hangs (rather than refusing connections) gets Meta an
     * answer and a retry. Also bounds migrations run by `serve`: run a long one with `botrelic migrate`.
     */
    BOTRELIC_DB_TIMEOUT: duration
      .refine((ms) => ms > 0, 'expected a duration above 0, like 10s')
      .default(10_000),
    /** The outbox sender looks for due rows this often, besides being woken by every commit that writes some. */
    BOTRELIC_OUTBOX_POLL_INTERVAL: duration.default(1_000),
    /** Graph API attempts (5xx, 429, 130429 and timeouts are retried with backoff) before a message is failed. */
    BOTRELIC_OUTBOX_MAX_ATTEMPTS: wholeNumber(1).default(10),
    /** Messages per second this process sends from one phone number: Meta's default throughput is 80. */
    BOTRELIC_PHONE_NUMBER_RATE: z.coerce.number().positive().default(80),
    /** A sandbox message turns delivered after this and read after twice this; 0s turns the ticks off. */
    BOTRELIC_SANDBOX_RECEIPT_DELAY: duration.default(1_000),
    /** Adds this many milliseconds to every AI call: the benchmark's stand-in for a slow model. */
    BOTRELIC_AI_LATENCY_MS: wholeNumber(0).default(0),
    /**
     * What this process runs: `all` of the engine, or one side of it: the `gateway` (HTTP: webhooks, APIs, pages)
     * or the `sessions` (actor host, sweeper, outbox sender; HTTP for health and metrics only).
     */
    BOTRELIC_ROLE: z.enum(['all', 'gateway', 'sessions']).default('all'),
  })
  .superRefine((env, ctx) => {
    if (env.BOTRELIC_ROLE === 'all' || (env.DATABASE_URL && env.NATS_URL)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['BOTRELIC_ROLE'],
      message:
        `${env.BOTRELIC_ROLE} needs DATABASE_URL and NATS_URL: the other side of the engine runs in another ` +
        'process, and the two meet only in Postgres and over NATS',
    });
  });

export type Environment = z.output<typeof environmentSchema>;

/** Every bad variable, one line each (`PORT: expected a whole number…`); values of secrets are never echoed. */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';

  constructor(readonly problems: readonly string[]) {
    super(`invalid environment:\n${problems.join('\n')}`);
  }
}

export function readEnvironment(env: Record<string, string | undefined>): Environment {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = environmentSchema.safeParse(present);
  if (!result.success) {
    throw new EnvironmentError(
      result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  return result.data;
}
