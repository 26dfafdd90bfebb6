import type { WorkspaceConfig } from '../config/workspace-config.ts';
import type { SessionMachineSettings } from '../machines/session.ts';

/** The part of a workspace's configuration a session runs with. */
export function sessionSettingsFor(workspace: WorkspaceConfig): SessionMachineSettings {
  return {
    inactivityTimeoutMs: workspace.sessions.inactivityTimeout,
    aiTimeoutMs: workspace.sessions.aiTimeout,
    handoffTimeoutMs: workspace.sessions.handoffTimeout,
    humanInactivityTimeoutMs: workspace.sessions.humanInactivityTimeout,
    onHandoffTimeout: workspace.sessions.onHandoffTimeout,
    handoffMessage: workspace.fallback.message,
    handoffTimeoutMessage: workspace.sessions.handoffTimeoutMessage,
    maxLowConfidenceTurns: workspace.fallback.maxLowConfidenceTurns,
    historyLimit: workspace.sessions.historyLimit,
    defaultTeamId: workspace.handoff.defaultTeam ?? workspace.humanTeams[0]?.id ?? null,
    closedMessage: workspace.sessions.closedMessage ?? null,
  };
}
