import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../src/config/environment.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { findScenarioFiles } from '../../src/scenarios/scenario-paths.ts';
import { formatScenarioResult } from '../../src/scenarios/scenario-report.ts';
import { runScenarioFiles, type ScenarioResult } from '../../src/scenarios/scenario-runner.ts';

const files = await findScenarioFiles(['scenarios']);
let results: Map<string, ScenarioResult>;

// The repository's scenario suite, as `botrelic test` runs it: botrelic.yaml, the real offline AI agent.
describe('the scenario suite in scenarios/', () => {
  beforeAll(async () => {
    const config = await loadConfig('botrelic.yaml', {});
    const run = await runScenarioFiles(files, {
      config,
      env: readEnvironment({}),
      logger: createLogger({ level: 'silent' }),
    });
    results = new Map(run.map((result) => [result.file, result]));
  }, 120_000);

  afterAll(() => results?.clear());

  it('covers the edge cases of issue 6', () => {
    expect(files.map((file) => file.replace(/^scenarios\//, ''))).toEqual(
      expect.arrayContaining([
        'burst-answered-once.yaml',
        'escalation-keyword-two-languages.yaml',
        'low-confidence-loop.yaml',
        'unsupported-media.yaml',
        'handoff-nobody-takes.yaml',
        'human-inactivity.yaml',
        'agent-release-ai-picks-up.yaml',
        'close-then-new-session.yaml',
        'duplicate-webhook.yaml',
        'stale-redelivery.yaml',
        'late-duplicate-webhook.yaml',
      ]),
    );
  });

  it.each(files)('%s passes', (file) => {
    const result = results.get(file);
    expect(result, `${file} did not run`).toBeDefined();
    // The report is the message: which step failed, expected and got, the transcript so far.
    expect(result!.passed, formatScenarioResult(result!, { color: false })).toBe(true);
    expect(result!.steps.every((step) => step.status === 'passed')).toBe(true);
  });
});
