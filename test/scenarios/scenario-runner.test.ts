import { describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config/environment.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { runScenarioFiles } from '../../src/scenarios/scenario-runner.ts';

describe('the scenario runner', () => {
  it('fails a fallback expectation that only an earlier, already checked fallback would meet', async () => {
    const [result] = await runScenarioFiles(['test/fixtures/scenarios/stale-fallback.yaml'], {
      config: await loadConfig('botrelic.yaml', {}),
      env: readEnvironment({}),
      logger: createLogger({ level: 'silent' }),
    });
    expect(result!.passed).toBe(false);
    expect(result!.steps.map((step) => step.status)).toEqual([
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
      'failed',
    ]);
    expect(result!.steps[6]!.failure).toEqual({
      expected: 'a fallback with reason keyword',
      got: 'no fallback since the last one checked',
    });
  }, 60_000);
});
