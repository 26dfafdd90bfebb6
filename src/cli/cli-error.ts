/**
 * A problem the person at the terminal fixes (a bad option or environment variable, a busy port): printed
 * as one line each, without a stack trace. Exit code 2 is a usage error; 1 is anything else that failed.
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
  }
}
