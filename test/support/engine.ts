import type { Logger } from 'pino';
import type { ReplyAgent } from '../../src/ai/reply-agent.ts';
import { createEngine, type Engine, type EngineOptions } from '../../src/app.ts';
import { ManualClock } from '../../src/clock/manual-clock.ts';
import { readEnvironment } from '../../src/config/environment.ts';
import type { BotrelicConfig } from '../../src/config/workspace-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { SessionAddress } from '../../src/persistence/session-store.ts';
import type { Transport } from '../../src/transport/transport.ts';
import type { TestDatabase } from './database.ts';
import { ScriptedAgent } from './scripted-agent.ts';
import { testConfig } from './test-config.ts';

export interface TestEngine {
  engine: Engine;
  clock: ManualClock;
  agent: ScriptedAgent;
  /** Records a customer text message as the gateway would, and waits until the session applied it. */
  customerSays(
    workspaceId: string,
    phoneNumberId: string,
    waId: string,
    text: string,
    wamid?: string,
  ): Promise<SessionAddress>;
  /** Moves the clock and waits for every timer that fell due to be applied. */
  advance(ms: number): Promise<void>;
  settle(): Promise<void>;
  stop(): Promise<void>;
}

let wamidCounter = 0;

/** A whole engine on the test's own database and transport, with a hand-moved clock and a scripted AI. */
export async function startTestEngine(options: {
  /** The engine's database; without one it opens its own from `env.DATABASE_URL`, as `serve` does. */
  database?: TestDatabase;
  transport: Transport;
  config?: BotrelicConfig;
  /** The AI agent: scripted by the test by default; 'real' builds the engine's own (offline without a key). */
  agent?: ReplyAgent | 'real';
  clock?: ManualClock;
  actors?: { idleMs?: number; maxLiveActors?: number; replyWindowMs?: number };
  /** Process environment variables, e.g. WHATSAPP_APP_SECRET; none by default. */
  env?: Record<string, string>;
  /** Silent by default. */
  logger?: Logger;
  inspect?: EngineOptions['inspect'];
}): Promise<TestEngine> {
  const clock = options.clock ?? new ManualClock();
  const agent = new ScriptedAgent();
  const engine = await createEngine({
    config: options.config ?? testConfig(),
    env: readEnvironment(options.env ?? {}),
    logger: options.logger ?? createLogger({ level: 'silent' }),
    clock,
    replyAgent: options.agent === 'real' ? undefined : (options.agent ?? agent),
    inspect: options.inspect,
    database: options.database && {
      db: options.database.db,
      dialect: options.database.kind,
      close: options.database.close,
    },
    transport: options.transport,
    // The sweeper runs on the manual clock: it fires only when a test advances time.
    actors: { sweepIntervalMs: 1_000, ...options.actors },
  });
  await engine.start();
  const settle = async () => {
    await options.transport.flush();
    await engine.host.settle();
    // The sender delivers what those jobs wrote; the failures it records are told to their sessions.
    await engine.outbox.settle();
    await engine.failures.settle();
    await engine.host.settle();
  };
  return {
    engine,
    clock,
    agent,
    async customerSays(workspaceId, phoneNumberId, waId, text, wamid = `wamid.test${++wamidCounter}`) {
      await engine.sessions.recordInbound([
        {
          workspaceId,
          phoneNumberId,
          customerWaId: waId,
          wamid,
          type: 'text',
          body: text,
          customerName: null,
          payload: { from: waId, id: wamid, type: 'text', text: { body: text } },
          sentAt: clock.now(),
          receivedAt: clock.now(),
        },
      ]);
      const address = engine.sessions.addressOf(workspaceId, phoneNumberId, waId);
      // The notice travels over the transport; delivering directly as well makes the wait deterministic
      // (a second delivery finds nothing pending and does nothing).
      await engine.host.deliverInbound(address);
      await settle();
      return address;
    },
    async advance(ms) {
      clock.advance(ms);
      await settle();
      // Passivated sessions have no timer in memory: the sweeper is what fires their stored deadlines.
      await engine.sweeper.sweep();
      await settle();
    },
    settle,
    stop: () => engine.stop(),
  };
}
