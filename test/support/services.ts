import { randomBytes } from 'node:crypto';
import { createInProcessTransport } from '../../src/transport/in-process-transport.ts';
import { createNatsTransport } from '../../src/transport/nats-transport.ts';
import type { Transport, TransportErrorHandler } from '../../src/transport/transport.ts';
import { namespaced } from './namespaced-transport.ts';

export interface TestTransport {
  transport: Transport;
  kind: 'nats' | 'in-process';
  close(): Promise<void>;
}

export function natsUrl(): string {
  return process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
}

/** A short id that is a valid subject token and database name, so parallel test files never collide. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(6).readUIntBE(0, 6).toString(36)}`;
}

/** One per test file (vitest gives each file its own module instances): its engines share it, others do not. */
const FILE_NAMESPACE = uniqueId('test');

let natsReachable: Promise<boolean> | undefined;

/** Probed once per process: a missing server must not cost every test file another timeout. */
export function isNatsReachable(): Promise<boolean> {
  natsReachable ??= createNatsTransport({ url: natsUrl(), connectTimeoutMs: 1_000 }).then(
    async (transport) => {
      await transport.close();
      return true;
    },
    () => false,
  );
  return natsReachable;
}

export function natsRequiredMessage(): string {
  return (
    `NATS is required in CI but ${natsUrl()} is not reachable. Start it with ` +
    '`nats-server -a 127.0.0.1 -p 4222 -js` (or set NATS_URL).'
  );
}

/** The real NATS server when one is running; locally the in-process adapter stands in, in CI that is an error. */
export async function connectTestTransport(
  options: { onError?: TransportErrorHandler } = {},
): Promise<TestTransport> {
  if (await isNatsReachable()) {
    const nats = await connectNatsTestTransport(options);
    return { ...nats, transport: namespaced(nats.transport, FILE_NAMESPACE) };
  }
  if (process.env.CI === 'true') throw new Error(natsRequiredMessage());
  const transport = createInProcessTransport(options);
  return { transport, kind: 'in-process', close: () => transport.close() };
}

export async function connectNatsTestTransport(
  options: { onError?: TransportErrorHandler } = {},
): Promise<TestTransport> {
  const transport = await createNatsTransport({ url: natsUrl(), name: 'botrelic-test', ...options });
  return { transport, kind: 'nats', close: () => transport.close() };
}
