import { readdirSync, readFileSync } from 'node:fs';

const DIR = new URL('../fixtures/meta/', import.meta.url);

/** Every Meta webhook fixture, by file name. */
export const META_FIXTURE_NAMES: readonly string[] = readdirSync(DIR).filter((name) =>
  name.endsWith('.json'),
);

/** A fixture's bytes exactly as Meta would send them: what a signature is computed over. */
export function metaFixtureBytes(name: string): Buffer {
  return readFileSync(new URL(name, DIR));
}

/** A fixture as the gateway hands it to the parser, after JSON.parse: a fresh copy on every call. */
export function metaFixture(name: string): unknown {
  return JSON.parse(metaFixtureBytes(name).toString('utf8'));
}

export type JsonPath = readonly (string | number)[];

/** Marks a field to remove rather than replace. */
export const REMOVE = Symbol('remove');

/** The value at `path`, or undefined when the path does not exist. */
export function valueAt(value: unknown, path: JsonPath): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** A copy of `value` with the field at `path` replaced, or removed with REMOVE. */
export function withValueAt(value: unknown, path: JsonPath, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(value);
  const parent = valueAt(copy, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object')
    throw new Error(`no object at ${path.slice(0, -1).join('.')}`);
  const key = path.at(-1) as string | number;
  const record = parent as Record<string | number, unknown>;
  if (replacement === REMOVE) delete record[key];
  else record[key] = replacement;
  return copy;
}

/** Every path in a JSON value, the root's included, parents before their children. */
export function pathsOf(value: unknown, path: JsonPath = []): JsonPath[] {
  if (value === null || typeof value !== 'object') return [path];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return [path, ...entries.flatMap(([key, child]) => pathsOf(child, [...path, key]))];
}
