/** One thing wrong with the config, at a field path such as ['workspaces', 0, 'phoneNumbers', 0, 'mode']. */
export interface Problem {
  path: readonly (string | number)[];
  message: string;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$]*$/;

/** Renders a path the way a reader finds the field in the YAML: workspaces[0].phoneNumbers[0].mode. */
function formatPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((key, i) => {
      if (typeof key === 'number') return `[${key}]`;
      if (!PLAIN_KEY.test(key)) return `[${JSON.stringify(key)}]`;
      return i === 0 ? key : `.${key}`;
    })
    .join('');
}

export function formatProblem(problem: Problem): string {
  return `${formatPath(problem.path)}: ${problem.message}`;
}

/**
 * Every problem found in one config file, one per line, so an operator fixes them in one pass
 * instead of one restart per typo.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super([`Cannot load config ${file}:`, ...problems].join('\n'));
  }
}
