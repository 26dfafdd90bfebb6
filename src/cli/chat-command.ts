import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Environment } from '../config/environment.ts';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import {
  type CustomerInput,
  createSandboxApiClient,
  SandboxApiError,
} from '../sandbox/sandbox-api-client.ts';
import { startSandboxEngine } from '../sandbox/sandbox-engine.ts';
import { SessionWatcher, type WatchedChange } from '../sandbox/session-watcher.ts';
import { buttonReply, messageOfType } from '../whatsapp/simulated-message.ts';

export interface ChatCommandOptions {
  env: Environment;
  /** The process environment, for `${VAR}` in the config. */
  variables: Record<string, string | undefined>;
  configPath?: string;
  /** A running engine and an agent token of the workspace to play in; without them, an in-process engine. */
  url?: string;
  token?: string;
  workspace?: string;
  phoneNumber?: string;
  customer?: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

const HELP = `Type a line to send it as the customer. Commands:
  /button <id> <title>   tap a reply button          /image [caption]   send a photo
  /advance               fire the session's next timeout now (handoff, inactivity...)
  /new                   start over as a new customer   /quit   leave`;

const newCustomer = () => `1555${String(randomInt(100_000_000)).padStart(8, '0')}`;

/**
 * `botrelic chat`: be the customer in a terminal. Against a running engine (`--url`, `--token`) it uses the
 * sandbox messages API, the advance route and the live event stream; without them it starts an engine in this
 * process (PGlite in memory, real clock) and talks to it over the same HTTP APIs, with a credential of that
 * process's own, so a workspace without human agents can be played too.
 */
export async function chatCommand(options: ChatCommandOptions): Promise<number> {
  const write = (line: string) => options.output.write(`${line}\n`);
  if ((options.url === undefined) !== (options.token === undefined)) {
    write('botrelic chat: --url and --token go together (a running engine and an agent token of it)');
    return 2;
  }
  let stopEngine = async () => {};
  let baseUrl = options.url;
  let token = options.token;
  if (baseUrl === undefined) {
    const config = await loadConfig(options.configPath ?? options.env.BOTRELIC_CONFIG, options.variables);
    const workspace = options.workspace
      ? config.workspaces.find((candidate) => candidate.id === options.workspace)
      : config.workspaces[0];
    if (!workspace) {
      const known = config.workspaces.map((candidate) => candidate.id).join(', ');
      write(`workspace "${options.workspace}" is not in the config (it has ${known})`);
      return 2;
    }
    const sandbox = await startSandboxEngine({
      config,
      env: options.env,
      logger: createLogger({ level: 'silent' }),
    });
    stopEngine = sandbox.stop;
    try {
      token = await sandbox.simulatorToken(workspace.id);
      baseUrl = await sandbox.engine.app.listen({ port: 0, host: '127.0.0.1' });
    } catch (error) {
      await stopEngine();
      throw error;
    }
  }
  const api = createSandboxApiClient({ baseUrl, token: token! });
  try {
    const sandbox = await api.sandbox();
    const number =
      sandbox.phoneNumbers.find((candidate) => candidate.phoneNumberId === options.phoneNumber) ??
      (options.phoneNumber === undefined ? sandbox.phoneNumbers[0] : undefined);
    if (!number) {
      write(
        options.phoneNumber === undefined
          ? `workspace ${sandbox.workspaceId} has no sandbox number: add one with mode: sandbox`
          : `${options.phoneNumber} is not a sandbox number of workspace ${sandbox.workspaceId}`,
      );
      return 2;
    }
    let customer = options.customer ?? newCustomer();
    const watcher = new SessionWatcher(api, { workspaceId: sandbox.workspaceId, waId: customer }, (change) =>
      write(describeChange(change)),
    );
    await watcher.start();
    write(
      `botrelic chat — ${sandbox.workspaceName} (${sandbox.workspaceId}), sandbox number ` +
        `${number.displayPhoneNumber ?? number.phoneNumberId}, you are customer ${customer}\n${HELP}`,
    );

    const send = async (input: CustomerInput) => {
      await api.send(sandbox.workspaceId, customer, number.phoneNumberId, input);
    };
    const lines = createInterface({ input: options.input, terminal: false });
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '') continue;
      try {
        if (line === '/quit') break;
        if (line === '/new') {
          customer = newCustomer();
          watcher.follow(customer);
          write(`· you are now customer ${customer}`);
        } else if (line === '/advance') {
          if (watcher.sessionId === null) write('· no session yet: write something first');
          else
            write(
              `· fired the pending timeout; the session is ${(await api.advance(watcher.sessionId)).state}`,
            );
        } else if (line.startsWith('/button')) {
          const [, id, ...title] = line.split(/\s+/);
          if (!id || title.length === 0)
            write('· usage: /button <id> <title>, e.g. /button talk_to_human Talk to a person');
          else await send({ message: buttonReply(id, title.join(' ')) });
        } else if (line === '/image' || line.startsWith('/image ')) {
          const caption = line.slice('/image'.length).trim();
          await send({ message: messageOfType('image', caption ? { caption } : {}) });
        } else if (line.startsWith('/')) write(`· unknown command ${line.split(/\s/)[0]}\n${HELP}`);
        else await send({ text: line });
      } catch (error) {
        if (!(error instanceof SandboxApiError)) throw error;
        write(`! ${error.message} (${error.code})`);
      }
    }
    watcher.stop();
    return 0;
  } finally {
    await stopEngine();
  }
}

const indent = (text: string) => text.split('\n').join('\n    ');

function describeChange(change: WatchedChange): string {
  switch (change.kind) {
    case 'session':
      return `· session ${change.sessionId}`;
    case 'state':
      return `· state: ${change.state}`;
    case 'fallback': {
      const { reason, evidence } = change.decision;
      const why = ['keyword', 'type', 'rule'].find((key) => typeof evidence[key] === 'string');
      return `· fallback: ${reason}${why ? ` (${why} ${JSON.stringify(evidence[why])})` : ''}`;
    }
    case 'message': {
      const { message, decision } = change;
      const detail = decision
        ? `\n    (confidence ${decision.confidence.toFixed(2)}${decision.chunks.length > 0 ? ` · ${decision.chunks.join(', ')}` : ''})`
        : '';
      return `${message.author} ▸ ${indent(message.text ?? `[${message.type}]`)}${detail}`;
    }
  }
}
