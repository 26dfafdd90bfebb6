import { EnvironmentError, readEnvironment } from '../config/environment.ts';
import { ConfigError } from '../config/load-config.ts';
import { sessionMachineJson, sessionMachineMermaid } from '../machines/session-diagram.ts';
import { chatCommand } from './chat-command.ts';
import { type CliArguments, parseCliArguments } from './cli-arguments.ts';
import { CliError } from './cli-error.ts';
import { migrateCommand } from './migrate-command.ts';
import { serveCommand } from './serve-command.ts';
import { testCommand } from './test-command.ts';

const USAGE = `Usage: botrelic <command> [options]

Commands:
  serve [--config FILE] [--inspect[=URL]] [--inspect-port PORT]
                                             run the gateway and the actor host (BOTRELIC_ROLE: all of
                                             them, or one side in services mode); --inspect
                                             streams session actors to a Stately inspector (the local bridge
                                             on port 8080 or PORT, or a running one at URL: ws://host:port)
  migrate                                    apply database migrations and exit
  machine [--json | --mermaid]               print the session machine (default: both)
  test [PATHS...] [--config FILE]            run scenario files (default: scenarios/) in-process; see docs/scenarios.md
  chat [--url URL --token TOKEN] [--config FILE] [--workspace ID] [--number PHONE_NUMBER_ID] [--customer WA_ID]
                                             be a sandbox customer in the terminal (in-process engine by default)

Environment: DATABASE_URL, NATS_URL, BOTRELIC_CONFIG, BOTRELIC_DATA_DIR, PORT, HOST, LOG_LEVEL,
ANTHROPIC_API_KEY, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, WHATSAPP_GRAPH_URL, BOTRELIC_ROLE (see README).`;

/** The environment, read only by commands that use it: `botrelic machine` runs whatever PORT says. */
function environment() {
  try {
    return readEnvironment(process.env);
  } catch (error) {
    if (!(error instanceof EnvironmentError)) throw error;
    throw new CliError(error.problems.map((problem) => `invalid environment variable ${problem}`).join('\n'));
  }
}

async function main(args: CliArguments): Promise<number> {
  const { command } = args;
  if (args.help || !command) {
    console.log(USAGE);
    return command || args.help ? 0 : 2;
  }
  switch (command) {
    case 'serve':
      return serveCommand({
        env: environment(),
        variables: process.env,
        configPath: args.config,
        inspect: args.inspect,
        inspectPort: args.inspectPort,
      });
    case 'migrate':
      return migrateCommand(environment());
    case 'test':
      return testCommand({
        env: environment(),
        variables: process.env,
        configPath: args.config,
        paths: args.operands,
        style: { color: process.stdout.isTTY === true && !process.env.NO_COLOR },
      });
    case 'chat':
      return chatCommand({
        env: environment(),
        variables: process.env,
        configPath: args.config,
        url: args.url,
        token: args.token,
        workspace: args.workspace,
        phoneNumber: args.number,
        customer: args.customer,
        input: process.stdin,
        output: process.stdout,
      });
    case 'machine':
      if (!args.mermaid) console.log(JSON.stringify(sessionMachineJson(), null, 2));
      if (!args.json) console.log(sessionMachineMermaid());
      return 0;
    default:
      throw new CliError(`unknown command "${command}"`);
  }
}

/**
 * The failed system call behind an error (`connect ECONNREFUSED 127.0.0.1:5432`, `getaddrinfo ENOTFOUND nats`),
 * itself or as its cause: an unreachable service, which no code of ours is at fault for.
 */
function systemFailure(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (typeof (error as NodeJS.ErrnoException).syscall === 'string') return error.message;
  const cause = systemFailure(error.cause);
  return cause && `${error.message} (${cause})`;
}

/** What the person at the terminal sees when a command cannot run: their mistake in one line, a bug in full. */
function report(error: unknown): number {
  if (error instanceof CliError) {
    for (const line of error.message.split('\n')) console.error(`botrelic: ${line}`);
    return error.exitCode;
  }
  // A bad configuration and an unreachable service are the operator's to fix: what is wrong, without a stack.
  const failure = systemFailure(error);
  if (error instanceof ConfigError) console.error(error.message);
  else if (error instanceof EnvironmentError)
    for (const problem of error.problems) console.error(`botrelic: ${problem}`);
  else if (failure) console.error(`botrelic: ${failure}`);
  else console.error(error);
  return 1;
}

Promise.resolve()
  .then(() => main(parseCliArguments(process.argv.slice(2))))
  .then(
    (code) => process.exit(code),
    (error: unknown) => process.exit(report(error)),
  );
