import { SESSION_MACHINE_VERSION } from './session.ts';

type Json = Record<string, unknown>;

/** Customer entries of version 1 have no `sentAt`: the message still queued knows it, else when it was applied. */
function withSentAt(history: unknown, unanswered: unknown): unknown {
  if (!Array.isArray(history)) return history;
  const queued = new Map(
    (Array.isArray(unanswered) ? (unanswered as Json[]) : []).map((message) => [
      message.wamid,
      message.sentAt,
    ]),
  );
  return (history as Json[]).map((entry) =>
    entry.kind === 'customer' && entry.sentAt === undefined
      ? { ...entry, sentAt: queued.get(entry.wamid) ?? entry.at }
      : entry,
  );
}

/**
 * Version 2: customer history entries carry Meta's `sentAt`; settings carry `closedMessage` (null: version 1
 * never sent one); in `fallback` and `human` the customer's messages are the team's, so nothing is queued for
 * the AI there; the AI call a restored `ai_responding` makes again reads the same history.
 */
function toVersion2(snapshot: Json): Json {
  const context = snapshot.context as Json;
  const settings = context.settings as Json;
  const handedOff = snapshot.value === 'fallback' || snapshot.value === 'human';
  const upgraded: Json = {
    ...snapshot,
    context: {
      ...context,
      settings: { closedMessage: null, ...settings },
      history: withSentAt(context.history, context.unanswered),
      unanswered: handedOff ? [] : context.unanswered,
    },
  };
  const children = snapshot.children as Record<string, { snapshot?: { input?: Json } }> | undefined;
  const reply = children?.generateReply;
  const input = reply?.snapshot?.input;
  if (reply && input) {
    upgraded.children = {
      ...children,
      generateReply: {
        ...reply,
        snapshot: {
          ...reply.snapshot,
          input: { ...input, history: withSentAt(input.history, input.unanswered) },
        },
      },
    };
  }
  return upgraded;
}

/**
 * Brings a snapshot persisted by an older machine version up to the current one. Each version step is
 * a function here, kept forever, and tested against stored fixtures (test/fixtures/snapshots/).
 */
const upgrades: Record<number, (snapshot: Json) => Json> = {
  1: toVersion2,
};

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
  let current = snapshot as Json;
  for (let version = machineVersion; version < SESSION_MACHINE_VERSION; version++) {
    const upgrade = upgrades[version];
    if (!upgrade) throw new Error(`no upgrade from session machine version ${version}`);
    current = upgrade(current);
  }
  return current;
}
