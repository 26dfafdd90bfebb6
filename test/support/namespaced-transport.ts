import type { Transport } from '../../src/transport/transport.ts';

/**
 * A transport whose subjects all live under `<namespace>.`, invisibly to its users. Test files run in parallel
 * against one NATS server with the same workspace ids: without this, one file's engine answers another file's
 * session commands (from a database that has no such session).
 */
export function namespaced(transport: Transport, namespace: string): Transport {
  const prefix = `${namespace}.`;
  return {
    publish: (subject, payload) => transport.publish(prefix + subject, payload),
    subscribe: (subject, handler, options) =>
      transport.subscribe(
        prefix + subject,
        (message) => handler({ ...message, subject: message.subject.slice(prefix.length) }),
        options,
      ),
    request: (subject, payload, options) => transport.request(prefix + subject, payload, options),
    flush: () => transport.flush(),
    isConnected: () => transport.isConnected(),
    close: () => transport.close(),
  };
}
