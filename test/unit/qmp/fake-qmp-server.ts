import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// One accepted connection of the fake server, seen from the server side.
export interface FakeQmpConn {
  send(msg: object | string): void;
  socket: net.Socket;
}

// A fake QMP server on a unix socket in a temp dir: sends a greeting, hands each command to `onCommand`.
export interface FakeQmpServer {
  path: string;
  received: Record<string, unknown>[];
  close(): Promise<void>;
}

export const GREETING = {
  QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'fake' }, capabilities: ['oob'] },
};

export async function startFakeQmp(
  onCommand: (msg: Record<string, unknown>, conn: FakeQmpConn) => void,
  opts: { greeting?: object | string | null; capabilities?: 'ok' | 'error' | 'silent' } = {},
): Promise<FakeQmpServer> {
  const dir = await mkdtemp(join(tmpdir(), 'xepa-qmp-'));
  const path = join(dir, 'qmp.sock');
  const received: Record<string, unknown>[] = [];
  const capabilities = opts.capabilities ?? 'ok';
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const conn: FakeQmpConn = {
      socket,
      send: (m) => socket.write(typeof m === 'string' ? m : `${JSON.stringify(m)}\r\n`),
    };
    const greeting = opts.greeting === undefined ? GREETING : opts.greeting;
    if (greeting !== null) conn.send(greeting);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        received.push(msg);
        if (msg.execute !== 'qmp_capabilities') onCommand(msg, conn);
        else if (capabilities === 'ok') conn.send({ return: {}, id: msg.id });
        else if (capabilities === 'error') conn.send({ error: { class: 'CommandNotFound', desc: 'nope' }, id: msg.id });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    received,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
