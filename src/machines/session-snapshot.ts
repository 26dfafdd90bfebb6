import { SESSION_MACHINE_VERSION } from './session.ts';

/**
 * Brings a snapshot persisted by an older machine version up to the current one. Each version step is
 * a function here, kept forever, and tested against stored fixtures (test/fixtures/snapshots/).
 */
const upgrades: Record<number, (snapshot: Record<string, unknown>) => Record<string, unknown>> = {};

export class UnknownMachineVersionError extends Error {
  constructor(version: number) {
    super(
      `session snapshot was written by machine version ${version}, newer than this build (${SESSION_MACHINE_VERSION}): deploy the newer build everywhere`,
    );
    this.name = 'UnknownMachineVersionError';
  }
}

export function migrateSessionSnapshot(snapshot: unknown, machineVersion: number): unknown {
  if (machineVersion > SESSION_MACHINE_VERSION || machineVersion < 1) {
    throw new UnknownMachineVersionError(machineVersion);
  }
  let current = snapshot as Record<string, unknown>;
  for (let version = machineVersion; version < SESSION_MACHINE_VERSION; version++) {
    const upgrade = upgrades[version];
    if (!upgrade) throw new Error(`no upgrade from session machine version ${version}`);
    current = upgrade(current);
  }
  return current;
}
