import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const SCENARIO_FILE = /\.ya?ml$/;

/** The scenario files named by `paths`: files as given, folders searched for .yaml/.yml files, sorted. */
export async function findScenarioFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new Error(`${path}: no such file or folder`);
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    const found = entries
      .filter((entry) => entry.isFile() && SCENARIO_FILE.test(entry.name))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    if (found.length === 0) throw new Error(`${path}: no .yaml scenario files in this folder`);
    files.push(...found);
  }
  return [...new Set(files)];
}
