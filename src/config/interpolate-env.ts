import type { Problem } from './config-error.ts';

type Env = Record<string, string | undefined>;

// "$${" is an escaped literal "${"; "${..." without a closing brace is caught so a typo is not kept as text.
const REFERENCE = /\$\$\{|\$\{([^}]*)(\}?)/g;
const NAME_AND_DEFAULT = /^([A-Za-z_]\w*)(?::-(.*))?$/s;

/**
 * Replaces ${VAR} and ${VAR:-default} inside the string values of a parsed YAML tree. Working on parsed
 * values rather than the raw text means a variable's value is always one string: it cannot add keys or
 * break the document. As in the shell, ":-" also applies when the variable is set but empty.
 */
export function interpolateEnv(tree: unknown, env: Env): { value: unknown; problems: Problem[] } {
  const problems: Problem[] = [];

  const substitute = (text: string, path: (string | number)[]): string =>
    text.replace(REFERENCE, (match, inner: string | undefined, closed: string | undefined) => {
      if (match === '$${') return '${';
      const reference = closed ? NAME_AND_DEFAULT.exec(inner ?? '') : null;
      if (!reference) {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shows the YAML syntax to write
        problems.push({ path, message: 'malformed variable reference: write ${NAME} or ${NAME:-default}' });
        return match;
      }
      const [, name = '', fallback] = reference;
      const value = env[name];
      if (fallback !== undefined) return value || fallback;
      if (value !== undefined) return value;
      problems.push({
        path,
        message: `environment variable ${name} is not set (set it, or give a default: \${${name}:-default})`,
      });
      return match;
    });

  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') return substitute(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]));
    }
    return node;
  };

  return { value: walk(tree, []), problems };
}
