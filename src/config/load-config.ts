import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, formatProblem, type Problem } from './config-error.ts';
import { problemsFromIssue } from './config-issues.ts';
import { interpolateEnv } from './interpolate-env.ts';
import { type BotrelicConfig, botrelicConfigSchema, SECRET_FIELDS } from './workspace-config.ts';

export { ConfigError } from './config-error.ts';

const CHOOSE_ANOTHER = 'choose another config file with BOTRELIC_CONFIG=<path> or --config <path>';

async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(file, [`no such file; create it, or ${CHOOSE_ANOTHER}`]);
    if (code === 'EISDIR') throw new ConfigError(file, [`this is a folder, not a file; ${CHOOSE_ANOTHER}`]);
    throw new ConfigError(file, [(error as Error).message]);
  }
}

/** Parses YAML without echoing the offending source line, which may hold a token. */
function parseYaml(file: string, text: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `line ${line}, column ${col}: ${error.message}`;
      }),
    );
  }
  try {
    return doc.toJS();
  } catch (error) {
    // Unresolved aliases and alias bombs surface only when the document is converted.
    throw new ConfigError(file, [(error as Error).message]);
  }
}

/** Literal values of secret fields, so that no message can echo them, whatever field it is about. */
function collectSecrets(node: unknown, secrets = new Set<string>()): Set<string> {
  if (node === null || typeof node !== 'object') return secrets;
  for (const [key, value] of Object.entries(node)) {
    // Very short values would blank out ordinary words of the messages; real credentials are longer.
    if (SECRET_FIELDS.has(key) && typeof value === 'string' && value.length >= 8) secrets.add(value);
    else collectSecrets(value, secrets);
  }
  return secrets;
}

async function knowledgeProblems(config: BotrelicConfig): Promise<Problem[]> {
  const checks = config.workspaces.flatMap((ws, w) =>
    ws.knowledge.map(async (folder, k): Promise<Problem[]> => {
      const path = ['workspaces', w, 'knowledge', k];
      const info = await stat(folder).catch(() => undefined);
      if (!info) return [{ path, message: `folder ${folder} does not exist` }];
      return info.isDirectory() ? [] : [{ path, message: `${folder} is not a folder` }];
    }),
  );
  return (await Promise.all(checks)).flat();
}

function withAbsoluteKnowledge(config: BotrelicConfig, base: string): BotrelicConfig {
  return {
    workspaces: config.workspaces.map((ws) => ({
      ...ws,
      knowledge: ws.knowledge.map((folder) => resolve(base, folder)),
    })),
  };
}

function configError(file: string, problems: Problem[], tree: unknown): ConfigError {
  const secrets = [...collectSecrets(tree)];
  const redact = (text: string) =>
    secrets.reduce((redacted, secret) => redacted.replaceAll(secret, '***'), text);
  return new ConfigError(
    file,
    problems.map((problem) => redact(formatProblem(problem))),
  );
}

/**
 * Reads and validates a Botrelic YAML config. ${VAR} and ${VAR:-default} are taken from `env`; relative
 * knowledge folders are resolved against the config file's folder. Throws a ConfigError listing every
 * problem found.
 */
export async function loadConfig(
  path: string,
  env: Record<string, string | undefined>,
): Promise<BotrelicConfig> {
  const file = resolve(path);
  const tree = parseYaml(file, await readConfigText(file));
  const { value, problems } = interpolateEnv(tree, env);
  const parsed = botrelicConfigSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    // A missing variable already explains its field; the schema's complaint about the leftover text is noise.
    const explained = new Set(problems.map((problem) => problem.path.join('.')));
    const schemaProblems = parsed.error.issues.flatMap(problemsFromIssue);
    problems.push(...schemaProblems.filter((problem) => !explained.has(problem.path.join('.'))));
    throw configError(file, problems, value);
  }
  const config = withAbsoluteKnowledge(parsed.data, dirname(file));
  problems.push(...(await knowledgeProblems(config)));
  if (problems.length > 0) throw configError(file, problems, value);
  return config;
}
