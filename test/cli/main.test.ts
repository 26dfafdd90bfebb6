import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/cli-process.ts';

/** The lines a failed command printed, with nothing that looks like a stack trace. */
function errorLines(stderr: string): string[] {
  const lines = stderr.trim().split('\n');
  expect(lines.filter((line) => /^\s+at /.test(line))).toEqual([]);
  return lines;
}

describe('botrelic on the command line', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(async () => {
    await dir?.remove();
  });

  it('answers an unknown option with one line naming it, exit code 2', async () => {
    const { code, stdout, stderr } = await runCli(['serve', '--bogus']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(errorLines(stderr)).toEqual([
      'botrelic: unknown option --bogus (botrelic --help lists the commands and their options)',
    ]);
  });

  it('answers a bad environment value with one line naming the variable and why, exit code 2', async () => {
    const { code, stderr } = await runCli(['serve'], { PORT: 'abc' });
    expect(code).toBe(2);
    expect(errorLines(stderr)).toEqual([
      'botrelic: invalid environment variable PORT: expected a whole number from 0 to 65535, got "abc"',
    ]);
  });

  it('refuses `machine --json --mermaid` instead of printing nothing', async () => {
    const { code, stdout, stderr } = await runCli(['machine', '--json', '--mermaid']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(errorLines(stderr)).toEqual([
      'botrelic: machine: --json and --mermaid each print one form; give one, or neither for both',
    ]);
  });

  it('prints the machine as JSON or as Mermaid, whatever the environment says', async () => {
    const json = await runCli(['machine', '--json'], { PORT: 'not a port' });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'session' });
    const mermaid = await runCli(['machine', '--mermaid']);
    expect(mermaid.stdout.startsWith('stateDiagram-v2\n')).toBe(true);
  });

  it('refuses to serve a production number without the app secret, in one line naming the variable', async () => {
    const config = join(dir.path, 'production.yaml');
    await writeFile(
      config,
      'workspaces:\n  - id: shop\n    name: Shop\n    phoneNumbers:\n      - { phoneNumberId: "100200300", mode: production, accessToken: t }\n',
    );
    const { code, stderr } = await runCli(['serve', '--config', config]);
    expect(code).toBe(1);
    const lines = errorLines(stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^botrelic: WHATSAPP_APP_SECRET is required: the production phone number 100200300 /,
    );
  });

  it('loads the workspaces file from --config, else from BOTRELIC_CONFIG', async () => {
    // Each file is wrong in its own way, so the error says which one was read.
    const fromFlag = join(dir.path, 'from-flag.yaml');
    const fromEnv = join(dir.path, 'from-env.yaml');
    await writeFile(fromFlag, 'workspaces: []\n');
    await writeFile(fromEnv, 'workspaces: 7\n');

    const flag = await runCli(['serve', '--config', fromFlag], { BOTRELIC_CONFIG: fromEnv });
    expect(flag.code).toBe(1);
    expect(errorLines(flag.stderr)[0]).toBe(`Cannot load config ${fromFlag}:`);

    const env = await runCli(['serve'], { BOTRELIC_CONFIG: fromEnv });
    expect(env.code).toBe(1);
    expect(errorLines(env.stderr)[0]).toBe(`Cannot load config ${fromEnv}:`);

    const missing = await runCli(['test', '--config', join(dir.path, 'missing.yaml')]);
    expect(missing.code).toBe(1);
    expect(errorLines(missing.stderr)).toEqual([
      `Cannot load config ${join(dir.path, 'missing.yaml')}:`,
      'no such file; create it, or choose another config file with BOTRELIC_CONFIG=<path> or --config <path>',
    ]);
  });
});
