import { parseArgs } from 'node:util';
import { createEngine } from '../app.ts';
import { type Environment, readEnvironment } from '../config/environment.ts';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { sessionMachineJson, sessionMachineMermaid } from '../machines/session-diagram.ts';
import { createLogger } from '../observability/logger.ts';
import { createDatabase } from '../persistence/database.ts';
import { migrateToLatest } from '../persistence/migrate.ts';
import { chatCommand } from './chat-command.ts';
import { createInspector } from './inspector.ts';
import { testCommand } from './test-command.ts';

const USAGE = `Usage: botrelic <command> [options]

Commands:
  serve [--config FILE] [--inspect[=URL]]   run the gateway and the actor host in one process
  migrate                                    apply database migrations and exit
  machine [--json | --mermaid]               print the session machine (default: both)
  test [PATHS...] [--config FILE]            run scenario files (default: scenarios/) in-process; see docs/scenarios.md
  chat [--url URL --token TOKEN] [--config FILE] [--workspace ID] [--number PHONE_NUMBER_ID] [--customer WA_ID]
                                             be a sandbox customer in the terminal (in-process engine by default)

Environment: DATABASE_URL, NATS_URL, BOTRELIC_CONFIG, BOTRELIC_DATA_DIR, PORT, HOST, LOG_LEVEL,
ANTHROPIC_API_KEY, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, WHATSAPP_GRAPH_URL (see README).`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    // A bare `--inspect` means the default inspector URL; parseArgs wants a value, so give it an empty one.
    args: argv.map((arg) => (arg === '--inspect' ? '--inspect=' : arg)),
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      inspect: { type: 'string' },
      json: { type: 'boolean' },
      mermaid: { type: 'boolean' },
      url: { type: 'string' },
      token: { type: 'string' },
      workspace: { type: 'string' },
      number: { type: 'string' },
      customer: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const env = readEnvironment(process.env);
  switch (command) {
    case 'serve':
      return serve(env, values.config, values.inspect);
    case 'migrate':
      return migrate(env);
    case 'test':
      return testCommand({
        env,
        variables: process.env,
        configPath: values.config,
        paths: positionals.slice(1),
        style: { color: process.stdout.isTTY === true && !process.env.NO_COLOR },
      });
    case 'chat':
      return chatCommand({
        env,
        variables: process.env,
        configPath: values.config,
        url: values.url,
        token: values.token,
        workspace: values.workspace,
        phoneNumber: values.number,
        customer: values.customer,
        input: process.stdin,
        output: process.stdout,
      });
    case 'machine':
      if (!values.mermaid) console.log(JSON.stringify(sessionMachineJson(), null, 2));
      if (!values.json) console.log(sessionMachineMermaid());
      return 0;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function serve(env: Environment, configPath: string | undefined, inspectUrl: string | undefined) {
  const logger = createLogger({ level: env.LOG_LEVEL });
  const config = await loadConfig(configPath ?? env.BOTRELIC_CONFIG, process.env);
  const inspector = inspectUrl === undefined ? undefined : createInspector(inspectUrl, logger);
  const engine = await createEngine({ config, env, logger, inspect: inspector?.inspect });
  await engine.start();
  const address = await engine.app.listen({ port: env.PORT, host: env.HOST });
  logger.info(
    {
      address,
      database: engine.database.dialect,
      transport: env.NATS_URL ? 'nats' : 'in-process',
      ai: env.ANTHROPIC_API_KEY ? 'anthropic' : 'offline',
      workspaces: config.workspaces.map((workspace) => workspace.id),
    },
    'botrelic is serving',
  );
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down: draining session mailboxes');
      resolve();
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  await engine.stop();
  inspector?.stop();
  logger.info('stopped');
  return 0;
}

async function migrate(env: Environment) {
  const database = env.DATABASE_URL
    ? await createDatabase({ url: env.DATABASE_URL })
    : await createDatabase({ dataDir: env.BOTRELIC_DATA_DIR });
  try {
    const applied = await migrateToLatest(database.db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
  } finally {
    await database.close();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // A bad configuration is the user's to fix: say what is wrong, without a stack trace.
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  },
);
