import type { z } from 'zod';
import type { Problem } from './config-error.ts';
import { SECRET_FIELDS } from './workspace-config.ts';

// Named as someone editing YAML thinks of them, not as JavaScript types.
const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
};

function kindOf(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return TYPE_NAMES[typeof value] ?? typeof value;
}

/** Shows a wrong value so the reader recognises it, except in a secret field, where only its kind is told. */
function describeValue(value: unknown, secret: boolean): string {
  if (secret || value === null || typeof value === 'object') return kindOf(value);
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  return String(value);
}

function oneOf(values: readonly unknown[]): string {
  const quoted = values.map((value) => JSON.stringify(value));
  return quoted.length > 1
    ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`
    : (quoted[0] ?? 'nothing');
}

/** Turns one zod issue into problems that say what the field needed and what it got. */
export function problemsFromIssue(issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: [...path, key],
      message: 'unknown field (check spelling and indentation)',
    }));
  }
  const missing = issue.input === undefined;
  const got = describeValue(issue.input, SECRET_FIELDS.has(String(path.at(-1))));
  const problem = (message: string): Problem[] => [{ path, message }];
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      return problem(missing ? `missing: expected ${expected}` : `expected ${expected}, got ${got}`);
    }
    case 'invalid_value':
      return problem(
        missing ? `missing: expected ${oneOf(issue.values)}` : `expected ${oneOf(issue.values)}, got ${got}`,
      );
    case 'invalid_format':
      return problem(`${issue.message}, got ${got}`);
    case 'too_small':
    case 'too_big':
      return problem(typeof issue.input === 'number' ? `${issue.message}, got ${got}` : issue.message);
    default:
      return problem(issue.message);
  }
}
