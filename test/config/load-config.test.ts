import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

let root: string;
let fileCount = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'botrelic-config-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes the YAML into a fresh folder of its own, so relative knowledge paths never collide. */
async function writeConfig(yaml: string, folders: string[] = []): Promise<string> {
  const dir = join(root, `case-${++fileCount}`);
  await mkdir(dir);
  for (const folder of folders) await mkdir(join(dir, folder), { recursive: true });
  const file = join(dir, 'botrelic.yaml');
  await writeFile(file, yaml);
  return file;
}

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

async function loadError(yaml: string, env: Record<string, string> = {}): Promise<ConfigError> {
  return configErrorOf(loadConfig(await writeConfig(yaml), env));
}

const ACME = `
  - id: acme
    name: Acme Store
    phoneNumbers:
      - phoneNumberId: "100000000000001"
        mode: sandbox
`;

describe('the shipped botrelic.yaml', () => {
  it('loads with an empty environment and describes the demo café', async () => {
    const config = await loadConfig(join(repoRoot, 'botrelic.yaml'), {});

    expect(config.workspaces).toHaveLength(1);
    const demo = config.workspaces[0]!;
    expect(demo.id).toBe('demo');
    expect(demo.phoneNumbers).toEqual([
      { phoneNumberId: '106540352242922', displayPhoneNumber: '15550783881', mode: 'sandbox' },
    ]);
    expect(demo.knowledge).toEqual([join(repoRoot, 'kb/demo')]);
    expect(demo.agent.instructions).toMatch(/knowledge base/);
    expect(demo.fallback.keywords).toEqual(
      expect.arrayContaining(['human', 'hablar con un humano', 'falar com um humano', 'atendente']),
    );
    expect(demo.humanTeams).toEqual([
      {
        id: 'support',
        name: 'Customer support',
        agents: [{ id: 'demo-agent', name: 'Demo Agent', token: 'demo-agent-token-change-me' }],
      },
    ]);
    expect(demo.sessions).toMatchObject({
      inactivityTimeout: 86_400_000,
      aiTimeout: 30_000,
      handoffTimeout: 900_000,
      humanInactivityTimeout: 7_200_000,
    });
  });

  it('takes the demo agent token from BOTRELIC_DEMO_AGENT_TOKEN when set', async () => {
    const config = await loadConfig(join(repoRoot, 'botrelic.yaml'), {
      BOTRELIC_DEMO_AGENT_TOKEN: 'a-private-token-for-this-box',
    });
    expect(config.workspaces[0]!.humanTeams[0]!.agents[0]!.token).toBe('a-private-token-for-this-box');
  });

  it('ships a knowledge base of 5 to 7 titled markdown documents', async () => {
    const dir = join(repoRoot, 'kb/demo');
    const documents = (await readdir(dir)).filter((name) => name.endsWith('.md'));
    expect(documents.length).toBeGreaterThanOrEqual(5);
    expect(documents.length).toBeLessThanOrEqual(7);
    for (const name of documents) {
      const text = await readFile(join(dir, name), 'utf8');
      expect(text, name).toMatch(/^# \S/);
      expect(text.split(/\s+/).length, name).toBeGreaterThan(150);
    }
  });
});

describe('environment variables', () => {
  it('replaces variables, with and without defaults, inside string values', async () => {
    const file = await writeConfig(`
workspaces:
  - id: acme
    name: \${ACME_NAME:-Acme Store}
    phoneNumbers:
      - phoneNumberId: "\${ACME_NUMBER}"
        mode: production
        accessToken: \${ACME_WA_TOKEN}
    agent:
      instructions: You work for \${ACME_NAME:-Acme}, in \${CITY:-Lisbon}. Write $\${PRICE} literally.
`);
    const config = await loadConfig(file, {
      ACME_NUMBER: '100000000000001',
      ACME_WA_TOKEN: 'EAAG-token',
      CITY: '',
    });

    const acme = config.workspaces[0]!;
    expect(acme.name).toBe('Acme Store');
    expect(acme.phoneNumbers[0]).toMatchObject({
      phoneNumberId: '100000000000001',
      accessToken: 'EAAG-token',
    });
    // ":-" also covers a variable set to the empty string, as in the shell.
    expect(acme.agent.instructions).toBe(`You work for Acme, in Lisbon. Write \${PRICE} literally.`);
  });

  it('keeps a value that looks like YAML as one plain string', async () => {
    const file = await writeConfig(`
workspaces:
  - id: acme
    name: \${ACME_NAME}
    phoneNumbers:
      - phoneNumberId: "100000000000001"
        mode: sandbox
`);
    const injected = 'Acme\n    mode: production\n    evil: true';
    const config = await loadConfig(file, { ACME_NAME: injected });
    expect(config.workspaces[0]!.name).toBe(injected);
    expect(config.workspaces[0]!.phoneNumbers[0]!.mode).toBe('sandbox');
  });

  it('names the missing variable and the field that uses it', async () => {
    const error = await loadError(`
workspaces:
  - id: acme
    name: Acme Store
    phoneNumbers:
      - phoneNumberId: "100000000000001"
        mode: production
        accessToken: \${ACME_WA_TOKEN}
`);
    expect(error.problems).toEqual([
      'workspaces[0].phoneNumbers[0].accessToken: environment variable ACME_WA_TOKEN is not set ' +
        `(set it, or give a default: \${ACME_WA_TOKEN:-default})`,
    ]);
  });

  it('rejects a malformed reference instead of keeping it as text', async () => {
    const error = await loadError(`
workspaces:
  - id: acme
    name: \${ACME NAME}
    phoneNumbers:
      - phoneNumberId: "100000000000001"
        mode: sandbox
`);
    expect(error.problems).toEqual([
      `workspaces[0].name: malformed variable reference: write \${NAME} or \${NAME:-default}`,
    ]);
  });
});

describe('validation errors name the field path', () => {
  it('bad mode', async () => {
    const error = await loadError(`
workspaces:
  - id: acme
    name: Acme Store
    phoneNumbers:
      - phoneNumberId: "100000000000001"
        mode: prod
`);
    expect(error.problems).toEqual([
      'workspaces[0].phoneNumbers[0].mode: expected "sandbox" or "production", got "prod"',
    ]);
    expect(error.message).toBe(
      `Cannot load config ${error.file}:\n` +
        'workspaces[0].phoneNumbers[0].mode: expected "sandbox" or "production", got "prod"',
    );
  });

  it('bad duration', async () => {
    const error = await loadError(`workspaces:${ACME}    sessions:\n      handoffTimeout: 15 minutes\n`);
    expect(error.problems).toEqual([
      'workspaces[0].sessions.handoffTimeout: expected a duration like 90s, 15m, 24h or 2d, got "15 minutes"',
    ]);
  });

  it('zero duration', async () => {
    const error = await loadError(`workspaces:${ACME}    sessions:\n      aiTimeout: 0s\n`);
    expect(error.problems).toEqual(['workspaces[0].sessions.aiTimeout: a timeout must be longer than 0']);
  });

  it('the same phone number in two workspaces', async () => {
    const error = await loadError(`
workspaces:${ACME}
  - id: globex
    name: Globex
    phoneNumbers:
      - phoneNumberId: "100000000000002"
        mode: sandbox
      - phoneNumberId: "100000000000001"
        mode: sandbox
`);
    expect(error.problems).toEqual([
      'workspaces[1].phoneNumbers[1].phoneNumberId: phone number 100000000000001 is configured twice: ' +
        'a number belongs to one workspace',
    ]);
  });

  it('a production number without an access token', async () => {
    const error = await loadError(`
workspaces:
  - id: acme
    name: Acme Store
    phoneNumbers:
      - phoneNumberId: "100000000000001"
        mode: production
`);
    expect(error.problems).toEqual([
      'workspaces[0].phoneNumbers[0].accessToken: a production number needs the access token of its Meta app',
    ]);
  });

  it('two agents with the same token, while one agent may sit in two teams', async () => {
    const error = await loadError(`
workspaces:${ACME}
    humanTeams:
      - id: support
        agents:
          - { id: alice, name: Alice, token: alice-token-0123456789 }
      - id: sales
        agents:
          - { id: alice, name: Alice, token: alice-token-0123456789 }
  - id: globex
    name: Globex
    phoneNumbers:
      - phoneNumberId: "100000000000002"
        mode: sandbox
    humanTeams:
      - id: care
        agents:
          - { id: bob, name: Bob, token: alice-token-0123456789 }
`);
    expect(error.problems).toEqual([
      'workspaces[1].humanTeams[0].agents[0].token: this token is already used by another agent: ' +
        'every agent needs its own',
    ]);
  });

  it('duplicate workspace and team ids, and one agent with two tokens', async () => {
    const error = await loadError(`
workspaces:${ACME}
    humanTeams:
      - id: support
        agents:
          - { id: alice, name: Alice, token: alice-token-0123456789 }
      - id: support
        agents:
          - { id: alice, name: Alice, token: alice-token-9876543210 }
  - id: acme
    name: Acme Again
    phoneNumbers:
      - phoneNumberId: "100000000000002"
        mode: sandbox
`);
    expect(error.problems).toEqual([
      'workspaces[0].humanTeams[1].id: duplicate team id "support"',
      'workspaces[0].humanTeams[1].agents[0].token: agent "alice" is listed elsewhere with a different token',
      'workspaces[1].id: duplicate workspace id "acme"',
    ]);
    expect(error.message).not.toContain('alice-token-');
  });

  it('one agent with two different capacities', async () => {
    const error = await loadError(`
workspaces:${ACME}
    humanTeams:
      - id: support
        agents:
          - { id: alice, name: Alice, token: alice-token-0123456789, capacity: 2 }
      - id: sales
        agents:
          - { id: alice, name: Alice, token: alice-token-0123456789, capacity: 5 }
      - id: billing
        agents:
          - { id: alice, name: Alice, token: alice-token-0123456789 }
`);
    expect(error.problems).toEqual([
      'workspaces[0].humanTeams[1].agents[0].capacity: agent "alice" is listed elsewhere with capacity 2: ' +
        'an agent has one capacity',
    ]);
  });

  it('a workspace id with uppercase letters', async () => {
    const error = await loadError(`
workspaces:
  - id: Acme
    name: Acme Store
    phoneNumbers:
      - phoneNumberId: "100000000000001"
        mode: sandbox
`);
    expect(error.problems).toEqual([
      'workspaces[0].id: must be lowercase letters, digits, "-" or "_" (it becomes a NATS subject token), got "Acme"',
    ]);
  });

  it('missing fields, unknown fields and wrong types', async () => {
    const error = await loadError(`
workspaces:
  - id: acme
    phoneNumbers: "100000000000001"
    agent:
      confidenceThreshold: 1.5
    sesions:
      inactivityTimeout: 1h
`);
    expect(error.problems).toEqual([
      'workspaces[0].name: missing: expected text',
      'workspaces[0].phoneNumbers: expected a list, got "100000000000001"',
      'workspaces[0].agent.confidenceThreshold: must be between 0 and 1, got 1.5',
      'workspaces[0].sesions: unknown field (check spelling and indentation)',
    ]);
  });

  it('reports several problems together, one per line', async () => {
    const error = await loadError(`
workspaces:
  - id: Acme
    name: Acme Store
    phoneNumbers:
      - phoneNumberId: "100000000000001"
        mode: prod
    fallback:
      maxLowConfidenceTurns: 0
    sessions:
      inactivityTimeout: forever
      handoffTimeout: \${HANDOFF_TIMEOUT}
`);
    expect(error.problems).toEqual([
      'workspaces[0].sessions.handoffTimeout: environment variable HANDOFF_TIMEOUT is not set ' +
        `(set it, or give a default: \${HANDOFF_TIMEOUT:-default})`,
      'workspaces[0].id: must be lowercase letters, digits, "-" or "_" (it becomes a NATS subject token), got "Acme"',
      'workspaces[0].phoneNumbers[0].mode: expected "sandbox" or "production", got "prod"',
      'workspaces[0].fallback.maxLowConfidenceTurns: must be at least 1, got 0',
      'workspaces[0].sessions.inactivityTimeout: expected a duration like 90s, 15m, 24h or 2d, got "forever"',
    ]);
    expect(error.message.split('\n')).toHaveLength(1 + error.problems.length);
  });

  it('an empty file', async () => {
    const error = await loadError('');
    expect(error.problems).toEqual(['(top level): expected a mapping (key: value), got an empty value']);
  });
});

describe('file and syntax errors', () => {
  it('gives the line and column of a YAML syntax error', async () => {
    const error = await loadError(`workspaces:
  - id: acme
    name: "Acme Store
    phoneNumbers: []
`);
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('reports a duplicate key with its line', async () => {
    const error = await loadError(`workspaces:${ACME}    name: Acme Again\n`);
    expect(error.problems).toEqual(['line 7, column 5: Map keys must be unique']);
  });

  it('says which file it looked for and how to choose another', async () => {
    const missing = join(root, 'nowhere', 'botrelic.yaml');
    const error = await configErrorOf(loadConfig(missing, {}));
    expect(error.file).toBe(missing);
    expect(error.message).toContain(missing);
    expect(error.message).toContain('BOTRELIC_CONFIG');
    expect(error.message).toContain('--config');
  });
});

describe('secrets', () => {
  const accessToken = 'EAAGm0PX4ZCpsBAKZAsecretvalue0123456789';
  const agentToken = 'agent-secret-token-abcdef0123';

  it('never appear in error messages', async () => {
    const error = await loadError(
      `
workspaces:
  - id: acme
    name: Acme Store
    phoneNumbers:
      - phoneNumberId: "100000000000001"
        mode: \${ACME_WA_TOKEN}
        accessToken: \${ACME_WA_TOKEN}
      - phoneNumberId: "100000000000002"
        mode: production
        accessToken: 12345678901234567890
    humanTeams:
      - id: support
        agents:
          - { id: alice, name: Alice, token: ${agentToken} }
          - { id: carol, name: Carol, token: short-secret }
`,
      { ACME_WA_TOKEN: accessToken },
    );
    expect(error.problems).toEqual([
      'workspaces[0].phoneNumbers[0].mode: expected "sandbox" or "production", got "***"',
      'workspaces[0].phoneNumbers[1].accessToken: expected text, got a number',
      'workspaces[0].humanTeams[0].agents[1].token: agent tokens need at least 16 characters',
    ]);
    for (const secret of [accessToken, agentToken, '12345678901234567890', 'short-secret']) {
      expect(error.message).not.toContain(secret);
    }
  });

  it('are not quoted from the source of a YAML syntax error', async () => {
    const error = await loadError(`
workspaces:
  - id: acme
    phoneNumbers:
      - accessToken: "${accessToken}
`);
    expect(error.problems[0]).toMatch(/^line \d+, column \d+: /);
    expect(error.message).not.toContain(accessToken);
  });
});

describe('resolved values', () => {
  it('resolves knowledge folders against the config file folder', async () => {
    const file = await writeConfig(`workspaces:${ACME}    knowledge: [./kb/acme, kb/faq, ${root}]\n`, [
      'kb/acme',
      'kb/faq',
    ]);
    const config = await loadConfig(file, {});
    const dir = join(file, '..');
    expect(config.workspaces[0]!.knowledge).toEqual([join(dir, 'kb/acme'), join(dir, 'kb/faq'), root]);
  });

  it('reports a knowledge folder that does not exist', async () => {
    const file = await writeConfig(`workspaces:${ACME}    knowledge: [./kb/acme]\n`);
    const error = await configErrorOf(loadConfig(file, {}));
    expect(error.problems).toEqual([
      `workspaces[0].knowledge[0]: folder ${join(file, '..', 'kb/acme')} does not exist`,
    ]);
  });

  it('parses durations into milliseconds and fills defaults', async () => {
    const file = await writeConfig(
      `workspaces:${ACME}    sessions:\n      inactivityTimeout: 24h\n      handoffTimeout: 90s\n      humanInactivityTimeout: 1.5h\n`,
    );
    const { sessions, agent, fallback } = (await loadConfig(file, {})).workspaces[0]!;
    expect(sessions).toMatchObject({
      inactivityTimeout: 86_400_000,
      handoffTimeout: 90_000,
      humanInactivityTimeout: 5_400_000,
      aiTimeout: 30_000,
      onHandoffTimeout: 'keep_waiting',
    });
    expect(agent.confidenceThreshold).toBe(0.55);
    expect(fallback.maxLowConfidenceTurns).toBe(2);
  });

  it('accepts an unquoted phone number id as text', async () => {
    const file = await writeConfig(
      'workspaces:\n  - id: acme\n    name: Acme\n    phoneNumbers:\n      - { phoneNumberId: 100000000000001, mode: sandbox }\n',
    );
    const config = await loadConfig(file, {});
    expect(config.workspaces[0]!.phoneNumbers[0]!.phoneNumberId).toBe('100000000000001');
  });
});
