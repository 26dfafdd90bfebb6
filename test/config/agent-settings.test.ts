import { describe, expect, it } from 'vitest';
import { agentSettingsFor } from '../../src/ai/agent-settings.ts';
import { ConfigError } from '../../src/config/load-config.ts';
import { workspaceSectionLoader } from '../support/workspace-yaml.ts';

const load = workspaceSectionLoader('agent');

describe('agent.maxTokensPerReply', () => {
  it('defaults to 20000 and reaches the agent settings', async () => {
    const config = await load('      model: claude-sonnet-4-5\n');
    expect(agentSettingsFor(config.workspaces[0]!).maxTokensPerReply).toBe(20_000);
    const own = await load('      maxTokensPerReply: 8000\n');
    expect(agentSettingsFor(own.workspaces[0]!).maxTokensPerReply).toBe(8_000);
  });

  it.each([
    ['500', 'must be between 2000 and 1000000, got 500'],
    ['2000000', 'must be between 2000 and 1000000, got 2000000'],
    ['2500.5', 'expected a whole number, got 2500.5'],
  ])('refuses %s, naming the field', async (value, message) => {
    const error = await load(`      maxTokensPerReply: ${value}\n`).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([`workspaces[0].agent.maxTokensPerReply: ${message}`]);
  });
});
