import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSettingsFor } from '../../src/ai/agent-settings.ts';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';

let root: string;
let files = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'botrelic-agent-config-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function load(agent: string) {
  const file = join(root, `botrelic-${++files}.yaml`);
  await writeFile(
    file,
    `workspaces:
  - id: acme
    name: Acme Store
    phoneNumbers:
      - { phoneNumberId: "100000000000001", mode: sandbox }
    agent:
${agent}`,
  );
  return loadConfig(file, {});
}

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
