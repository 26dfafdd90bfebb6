import type { Logger } from 'pino';
import { createReplyAgent } from '../ai/create-reply-agent.ts';
import type { ReplyAgent } from '../ai/reply-agent.ts';
import { createEngine, type Engine } from '../app.ts';
import type { Clock } from '../clock/clock.ts';
import type { Environment } from '../config/environment.ts';
import type { BotrelicConfig } from '../config/workspace-config.ts';
import { createKnowledgeBase } from '../knowledge/knowledge-base.ts';
import { createDatabase } from '../persistence/database.ts';
import { createInProcessTransport } from '../transport/in-process-transport.ts';

export interface SandboxEngineOptions {
  config: BotrelicConfig;
  env: Environment;
  logger: Logger;
  clock?: Clock;
  /** Wraps the AI agent, e.g. to hold its calls while a scenario delivers a burst. */
  wrapReplyAgent?: (agent: ReplyAgent) => ReplyAgent;
}

export interface SandboxEngine {
  engine: Engine;
  /** The workspace config as the engine runs it: every phone number in sandbox mode. */
  config: BotrelicConfig;
  stop(): Promise<void>;
}

/**
 * A whole engine in this process for `botrelic test` and `botrelic chat`: PGlite in memory, the in-process
 * transport, the offline AI agent answering from the workspaces' knowledge folders, and every phone number
 * in sandbox mode, so nothing can reach Meta whatever the config says.
 */
export async function startSandboxEngine(options: SandboxEngineOptions): Promise<SandboxEngine> {
  const config = inSandboxMode(options.config);
  // Offline whatever the environment holds: a run must not depend on, or spend on, a hosted model.
  const env: Environment = { ...options.env, ANTHROPIC_API_KEY: undefined };
  const database = await createDatabase({ memory: true });
  const transport = createInProcessTransport();
  try {
    const engine = await createEngine({
      config,
      env,
      logger: options.logger,
      clock: options.clock,
      // The engine indexes the knowledge folders into this database; the wrapped agent searches the same tables.
      ...(options.wrapReplyAgent
        ? {
            replyAgent: options.wrapReplyAgent(
              createReplyAgent(env, { knowledge: createKnowledgeBase(database.db), config }).agent,
            ),
          }
        : {}),
      database,
      transport,
    });
    await engine.start();
    return {
      engine,
      config,
      async stop() {
        await engine.stop();
        await transport.close();
        await database.close();
      },
    };
  } catch (error) {
    await transport.close();
    await database.close();
    throw error;
  }
}

function inSandboxMode(config: BotrelicConfig): BotrelicConfig {
  return {
    workspaces: config.workspaces.map((workspace) => ({
      ...workspace,
      phoneNumbers: workspace.phoneNumbers.map(({ accessToken: _, ...phoneNumber }) => ({
        ...phoneNumber,
        mode: 'sandbox' as const,
      })),
    })),
  };
}
