import { createEngine } from '../app.ts';
import type { Environment } from '../config/environment.ts';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { createInspector } from './inspector.ts';

export interface ServeCommandOptions {
  env: Environment;
  /** The process environment, for `${VAR}` in the config. */
  variables: Record<string, string | undefined>;
  configPath: string | undefined;
  /** `--inspect`: '' starts the local bridge, a URL connects to a running inspector, undefined neither. */
  inspect: string | undefined;
  inspectPort: number | undefined;
}

/**
 * `botrelic serve`: the gateway and the actor host in one process until SIGTERM or SIGINT, then a graceful
 * stop: no new requests, every session mailbox drained (each job commits before it ends), connections closed.
 * A second signal during the drain is not caught, so it ends the process at once.
 */
export async function serveCommand(options: ServeCommandOptions): Promise<number> {
  const { env } = options;
  const logger = createLogger({ level: env.LOG_LEVEL });
  const config = await loadConfig(options.configPath ?? env.BOTRELIC_CONFIG, options.variables);
  const inspector =
    options.inspect === undefined
      ? undefined
      : await createInspector(options.inspect, logger, options.inspectPort);
  const engine = await createEngine({ config, env, logger, inspect: inspector?.inspect });
  await engine.start();
  const address = await engine.app.listen({ port: env.PORT, host: env.HOST });
  logger.info(
    {
      address,
      database: engine.database.dialect,
      transport: env.NATS_URL ? 'nats' : 'in-process',
      ai: env.ANTHROPIC_API_KEY ? 'anthropic' : 'offline',
      role: env.BOTRELIC_ROLE,
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
