import { NoRespondersError, type Transport } from '../../src/transport/transport.ts';

/** Controls whether the sessions behind a transport answer commands, as a host that is down or stuck would. */
export interface SessionGate {
  /** Wraps the engine's transport (startTestGateway's `transport` option). */
  wrap(transport: Transport): Transport;
  /** Commands get no responder, as when no node hosts the session's partition. */
  refuse(): void;
  /** Commands wait, as for a session whose mailbox is stuck, until `open()`. */
  hold(): void;
  /** Commands go through again, the held ones included. */
  open(): void;
  /** Commands sent to sessions so far, held and refused ones included. */
  readonly commands: number;
}

export function sessionGate(): SessionGate {
  let mode: 'open' | 'refuse' | 'hold' = 'open';
  let opened: { promise: Promise<void>; resolve(): void } | undefined;
  let commands = 0;
  return {
    wrap: (transport) => ({
      publish: (subject, payload) => transport.publish(subject, payload),
      subscribe: (subject, handler, options) => transport.subscribe(subject, handler, options),
      flush: () => transport.flush(),
      isConnected: () => transport.isConnected(),
      close: () => transport.close(),
      async request(subject, payload, options) {
        if (!subject.endsWith('.cmd')) return transport.request(subject, payload, options);
        commands++;
        if (mode === 'refuse') throw new NoRespondersError(subject);
        if (mode === 'hold') await opened?.promise;
        return transport.request(subject, payload, options);
      },
    }),
    refuse() {
      mode = 'refuse';
    },
    hold() {
      mode = 'hold';
      let resolve!: () => void;
      const promise = new Promise<void>((done) => {
        resolve = done;
      });
      opened = { promise, resolve };
    },
    open() {
      mode = 'open';
      opened?.resolve();
      opened = undefined;
    },
    get commands() {
      return commands;
    },
  };
}
