import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** `botrelic test` as a user runs it: the real CLI in a child process. */
async function botrelicTest(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/botrelic.js', 'test', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('botrelic test', () => {
  it('fails a scenario that expects the wrong thing, naming the step and showing the transcript', async () => {
    const { code, stdout } = await botrelicTest('test/fixtures/scenarios/wrong-expectation.yaml');
    expect(code).toBe(1);
    expect(stdout).toContain(
      '✗ Expects the wrong thing on purpose  (test/fixtures/scenarios/wrong-expectation.yaml)',
    );
    expect(stdout).toMatch(/✓ {2}1 {2}customer: What are your opening hours\?/);
    expect(stdout).toMatch(/✓ {2}2 {2}expect: \{ reply: \{ mentions: opening-hours-and-locations\.md \} \}/);
    expect(stdout).toMatch(/✗ {2}4 {2}expect: \{ reply: We only serve cow's milk\. \} {2}\(line 7\)/);
    expect(stdout).toContain(`expected: a reply "We only serve cow's milk."`);
    expect(stdout).toMatch(/got: {6}ai: ".*milk.*" \(chunks: menu-and-products\.md#\d/);
    expect(stdout).toMatch(/- {2}5 {2}expect: \{ state: active \} {2}\(not run\)/);
    // The transcript so far: both questions and both answers, in order.
    const transcript = stdout.slice(stdout.indexOf('transcript so far:'));
    expect(transcript).toMatch(
      /customer +What are your opening hours\?[\s\S]*ai +[\s\S]*customer +Do you have oat milk\?[\s\S]*ai +/,
    );
    expect(stdout).toContain('1 scenario: 0 passed, 1 failed');
    expect(stdout).toContain('test/fixtures/scenarios/wrong-expectation.yaml:7 (step 4)');
  }, 60_000);

  it("passes the repository's whole scenario suite, exit code 0", async () => {
    const files = (await readdir('scenarios')).filter((name) => name.endsWith('.yaml'));
    const { code, stdout } = await botrelicTest('scenarios');
    expect(code, stdout).toBe(0);
    expect(stdout).toContain(`${files.length} scenarios: ${files.length} passed, 0 failed`);
  }, 120_000);

  it('refuses a path that does not exist, with exit code 2', async () => {
    const { code, stderr } = await botrelicTest('scenarios/no-such-file.yaml');
    expect(code).toBe(2);
    expect(stderr).toContain('scenarios/no-such-file.yaml: no such file or folder');
  });
});
