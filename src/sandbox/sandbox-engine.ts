import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { createReplyAgent } from '../ai/create-reply-agent.ts';
import type { ReplyAgent } from '../ai/reply-agent.ts';
import { createEngine, type Engine } from '../app.ts';
import type { Clock } from '../clock/clock.ts';
import type { Environment } from '../config/environment.ts';
import type { BotrelicConfig } from '../config/workspace-config.ts';
import { createKnowledgeBase } from '../knowledge/knowledge-base.ts';
import { createDatabase } from '../persistence/database.ts';
import { addProcessAgent } from '../persistence/workspace-sync.ts';
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
  /**
   * A bearer token of the workspace for this process only, so the simulator can play a workspace that has no
   * human agents: it belongs to an agent the config cannot name (`SIMULATOR_AGENT_ID`), in no team.
   */
  simulatorToken(workspaceId: string): Promise<string>;
  stop(): Promise<void>;
}

/** Not a valid agent id in botrelic.yaml (a colon), so it can never clash with a configured agent. */
const SIMULATOR_AGENT_ID = 'botrelic:simulator';

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
    const tokens = new Map<string, string>();
    return {
      engine,
      config,
      async simulatorToken(workspaceId) {
        const known = tokens.get(workspaceId);
        if (known) return known;
        if (!config.workspaces.some((workspace) => workspace.id === workspaceId)) {
          throw new Error(`workspace "${workspaceId}" is not in the config`);
        }
        const token = randomBytes(32).toString('base64url');
        await addProcessAgent(database.db, {
          workspaceId,
          agentId: SIMULATOR_AGENT_ID,
          name: 'Sandbox simulator',
          token,
        });
        tokens.set(workspaceId, token);
        return token;
      },
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
