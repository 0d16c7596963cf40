import { connect, createServer, type Socket } from 'node:net';

/** A loopback TCP proxy in front of the agent that a test can cut, close, or make swallow the agent's replies. */
export interface TcpProxy {
  port: number;
  cut(): void; // destroy every proxied connection (the agent keeps running)
  refuse(on: boolean): void; // new connections are closed at once, like an unreachable agent
  swallow(on: boolean): void; // bytes from the agent are dropped (requests arrive, replies never do)
  connections(): number; // proxied connections accepted so far
  swallowed(): number; // bytes from the agent dropped while swallowing, so far
  close(): Promise<void>;
}

// Starts the proxy on 127.0.0.1 in front of `targetPort`.
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let swallowing = false;
  let accepted = 0;
  let dropped = 0;
  const server = createServer((client) => {
    if (refusing) return void client.destroy();
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (swallowing) dropped += d.length;
      else client.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cut = (): void => {
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    port: (server.address() as { port: number }).port,
    cut,
    refuse: (on) => void (refusing = on),
    swallow: (on) => void (swallowing = on),
    connections: () => accepted,
    swallowed: () => dropped,
    close: () => {
      cut();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
