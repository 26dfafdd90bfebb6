import type { Environment } from '../config/environment.ts';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { findScenarioFiles } from '../scenarios/scenario-paths.ts';
import { formatScenarioResult, formatSummary, type ReportStyle } from '../scenarios/scenario-report.ts';
import { runScenarioFiles } from '../scenarios/scenario-runner.ts';

export interface TestCommandOptions {
  env: Environment;
  /** The process environment, for `${VAR}` in the config. */
  variables: Record<string, string | undefined>;
  configPath: string | undefined;
  paths: string[];
  style: ReportStyle;
}

/** `botrelic test [paths]`: runs scenario files against an in-process engine; 1 when any step fails. */
export async function testCommand(options: TestCommandOptions): Promise<number> {
  const configPath = options.configPath ?? options.env.BOTRELIC_CONFIG;
  const config = await loadConfig(configPath, options.variables);
  let files: string[];
  try {
    files = await findScenarioFiles(options.paths.length > 0 ? options.paths : ['scenarios']);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  console.log(
    `botrelic test: ${files.length} scenario ${files.length === 1 ? 'file' : 'files'} with ${configPath} ` +
      '(in-process engine, sandbox mode, offline AI agent)\n',
  );
  const results = await runScenarioFiles(files, {
    config,
    env: options.env,
    // The report is the output; the engine's own logs would bury it.
    logger: createLogger({ level: 'silent' }),
    onResult: (result) => console.log(`${formatScenarioResult(result, options.style)}\n`),
  });
  console.log(formatSummary(results, options.style));
  return results.every((result) => result.passed) ? 0 : 1;
}
