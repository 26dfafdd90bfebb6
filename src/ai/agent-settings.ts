import type { WorkspaceConfig } from '../config/workspace-config.ts';
import { type FallbackSettings, fallbackSettingsFor } from './fallback-rules.ts';

/** What an AI agent answers a workspace's customers with. */
export interface AgentSettings {
  instructions: string;
  model: string;
  /** Answers the model is less sure of than this are not sent: the session falls back. */
  confidenceThreshold: number;
  /** The language to answer in when the customer's own is unclear. */
  language: string;
  /** Tokens one answer may use over all its model calls (the Anthropic agent's budget). */
  maxTokensPerReply: number;
  fallback: FallbackSettings;
}

export function agentSettingsFor(
  workspace: WorkspaceConfig,
  fallbackOverrides: Partial<FallbackSettings> = {},
): AgentSettings {
  return {
    instructions: workspace.agent.instructions,
    model: workspace.agent.model,
    confidenceThreshold: workspace.agent.confidenceThreshold,
    language: workspace.agent.language,
    maxTokensPerReply: workspace.agent.maxTokensPerReply,
    fallback: fallbackSettingsFor(workspace, fallbackOverrides),
  };
}
