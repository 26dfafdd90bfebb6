import type { AddressInfo } from 'node:net';
import { connect, createServer, type Socket } from 'node:net';

/** A real TCP proxy in front of a server, that a test can make hang the way a stuck database or network does. */
export interface TcpProxy {
  port: number;
  /**
   * From now on, bytes on open connections go nowhere, in both directions, and new connections are accepted
   * but never forwarded: nothing is refused, nothing is answered.
   */
  hang(): void;
  /**
   * New connections are forwarded again. The connections that hung stay hung, as after a network partition
   * whose connections neither peer hears of again: whoever holds them must give up on them.
   */
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream?: Socket;
  hung: boolean;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let hanging = false;
  const server = createServer((client) => {
    const pair: Pair = { client, hung: hanging };
    pairs.add(pair);
    client.on('error', () => {});
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (pair.hung) return;
    const upstream = connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('error', () => {});
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk) => {
      if (!pair.hung) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.hung) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hang() {
      hanging = true;
      for (const pair of pairs) pair.hung = true;
    },
    restore() {
      hanging = false;
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
