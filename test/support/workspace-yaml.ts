import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config/load-config.ts';

/**
 * Loads botrelic.yaml files of one sandbox workspace whose `section` (agent, fallback, …) is the YAML a test
 * gives, from a folder of the test file's own that is removed after it. Call at the top of a test file.
 */
export function workspaceSectionLoader(section: string): (yaml: string) => ReturnType<typeof loadConfig> {
  let root: string;
  let files = 0;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `botrelic-${section}-config-`));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return async (yaml) => {
    const file = join(root, `botrelic-${++files}.yaml`);
    await writeFile(
      file,
      `workspaces:
  - id: acme
    name: Acme Store
    phoneNumbers:
      - { phoneNumberId: "100000000000001", mode: sandbox }
    ${section}:
${yaml}`,
    );
    return loadConfig(file, {});
  };
}
