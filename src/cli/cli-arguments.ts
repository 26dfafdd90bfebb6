import { parseArgs } from 'node:util';
import { CliError } from './cli-error.ts';

const OPTIONS = {
  config: { type: 'string' },
  inspect: { type: 'string' },
  'inspect-port': { type: 'string' },
  json: { type: 'boolean' },
  mermaid: { type: 'boolean' },
  url: { type: 'string' },
  token: { type: 'string' },
  workspace: { type: 'string' },
  number: { type: 'string' },
  customer: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof OPTIONS;

/** What each command accepts besides --help; anything else is refused rather than silently ignored. */
const COMMANDS: Record<string, { options: readonly OptionName[]; operands: boolean }> = {
  serve: { options: ['config', 'inspect', 'inspect-port'], operands: false },
  migrate: { options: [], operands: false },
  machine: { options: ['json', 'mermaid'], operands: false },
  test: { options: ['config'], operands: true },
  chat: { options: ['config', 'url', 'token', 'workspace', 'number', 'customer'], operands: false },
};

export interface CliArguments {
  /** Undefined with no command at all (usage is printed). */
  command: string | undefined;
  /** Positional arguments after the command (`botrelic test PATHS...`). */
  operands: string[];
  help: boolean;
  config?: string;
  /** `--inspect`: '' for the local bridge, or the inspector WebSocket URL. */
  inspect?: string;
  inspectPort?: number;
  json: boolean;
  mermaid: boolean;
  url?: string;
  token?: string;
  workspace?: string;
  number?: string;
  customer?: string;
}

const INSPECTOR_URL = /^wss?:\/\//;

/**
 * A bare `--inspect` means the local bridge; parseArgs wants a value, so it gets an empty one. A URL after a
 * space (`--inspect ws://host:port`) is the inspector's, not a stray operand.
 */
function normaliseInspect(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg !== '--inspect') args.push(arg);
    else if (INSPECTOR_URL.test(argv[i + 1] ?? '')) args.push(`--inspect=${argv[++i]}`);
    else args.push('--inspect=');
  }
  return args;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: normaliseInspect(argv), allowPositionals: true, options: OPTIONS });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const option = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new CliError(`unknown option ${option} (botrelic --help lists the commands and their options)`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new CliError(message);
    throw error;
  }
}

function inspectorUrl(value: string | undefined): string | undefined {
  if (!value) return value;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  if (!url || !INSPECTOR_URL.test(value)) {
    throw new CliError(
      `--inspect: expected a ws:// or wss:// URL (or nothing, for the local bridge), got "${value}"`,
    );
  }
  return value;
}

function inspectorPort(value: string | undefined, inspect: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (inspect !== '') {
    throw new CliError(
      '--inspect-port sets the port of the local inspector bridge: use it with a bare --inspect',
    );
  }
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65_535) {
    throw new CliError(`--inspect-port: expected a port number from 1 to 65535, got "${value}"`);
  }
  return port;
}

/** Parses and checks `botrelic <command> [options]`; throws a CliError naming the first thing wrong. */
export function parseCliArguments(argv: readonly string[]): CliArguments {
  const { positionals, values } = parse(argv);
  const [command, ...operands] = positionals;
  const help = values.help === true;
  if (command === undefined || help) return { command, operands, help, json: false, mermaid: false };
  const accepted = COMMANDS[command];
  if (!accepted) throw new CliError(`unknown command "${command}" (botrelic --help lists the commands)`);
  for (const name of Object.keys(values) as OptionName[]) {
    if (name !== 'help' && !accepted.options.includes(name)) {
      throw new CliError(`${command}: --${name} is not an option of this command`);
    }
  }
  if (!accepted.operands && operands.length > 0) {
    const hint =
      values.inspect === '' ? ' (an inspector URL after --inspect starts with ws:// or wss://)' : '';
    throw new CliError(`${command} takes no arguments, got "${operands.join(' ')}"${hint}`);
  }
  if (values.json && values.mermaid) {
    throw new CliError('machine: --json and --mermaid each print one form; give one, or neither for both');
  }
  return {
    command,
    operands,
    help,
    config: values.config,
    inspect: inspectorUrl(values.inspect),
    inspectPort: inspectorPort(values['inspect-port'], values.inspect),
    json: values.json === true,
    mermaid: values.mermaid === true,
    url: values.url,
    token: values.token,
    workspace: values.workspace,
    number: values.number,
    customer: values.customer,
  };
}
