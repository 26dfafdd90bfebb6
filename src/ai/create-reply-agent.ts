import Anthropic from '@anthropic-ai/sdk';
import type { Environment } from '../config/environment.ts';
import type { BotrelicConfig } from '../config/workspace-config.ts';
import type { KnowledgeSearch } from '../knowledge/knowledge-search.ts';
import { type AgentSettings, agentSettingsFor } from './agent-settings.ts';
import type { AiMetrics } from './ai-metrics.ts';
import { createAnthropicAgent } from './anthropic-agent.ts';
import { withAiLatency } from './delayed-agent.ts';
import { createOfflineAgent } from './offline-agent.ts';
import type { ReplyAgent } from './reply-agent.ts';

export interface ReplyAgentDeps {
  knowledge: KnowledgeSearch;
  config: BotrelicConfig;
  /** Token counts of the Anthropic agent; none when omitted (the sandbox engine, scripts). */
  metrics?: AiMetrics;
}

/**
 * The workspace's AI agent: Anthropic's Messages API when `ANTHROPIC_API_KEY` is set, otherwise the offline
 * knowledge-base responder, so the embedded default answers from its documents with no network. Either is made
 * slower by BOTRELIC_AI_LATENCY_MS when the benchmark asks for it.
 */
export function createReplyAgent(
  env: Environment,
  deps: ReplyAgentDeps,
): { agent: ReplyAgent; kind: 'anthropic' | 'offline' } {
  const settings = new Map(
    deps.config.workspaces.map((workspace) => [workspace.id, agentSettingsFor(workspace)]),
  );
  // Agents never throw: an unknown workspace becomes that turn's `ai_error` fallback.
  const settingsFor = (workspaceId: string): AgentSettings => {
    const found = settings.get(workspaceId);
    if (!found) throw new Error(`workspace "${workspaceId}" is not configured`);
    return found;
  };
  if (env.ANTHROPIC_API_KEY) {
    const client = new Anthropic({ apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL });
    return {
      agent: withAiLatency(
        createAnthropicAgent({ client, knowledge: deps.knowledge, settingsFor, metrics: deps.metrics }),
        env.BOTRELIC_AI_LATENCY_MS,
      ),
      kind: 'anthropic',
    };
  }
  return {
    agent: withAiLatency(
      createOfflineAgent({ knowledge: deps.knowledge, settingsFor }),
      env.BOTRELIC_AI_LATENCY_MS,
    ),
    kind: 'offline',
  };
}
