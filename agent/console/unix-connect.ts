import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { guardSocket } from '../api/index.js';

// How much one read from QEMU's VNC socket may bring: a unix socket queues about 200 KiB, so this takes it whole.
export const UNIX_READ_BYTES = 256 << 10;

/** A unix socket whose reads land in pooled buffers; give each 'data' chunk back with recycle() once sent. */
export interface PooledUnixSocket {
  socket: net.Socket;
  recycle(chunk: Buffer): void;
}

// Connects to a unix socket reading into pooled buffers of readBytes, each read handed on as a 'data' event
// without a copy. Compared with net's default (a fresh 64 KiB buffer per read) a 1080p frame stream needs a
// quarter of the reads, WebSocket frames and TLS writes, and allocates nothing per read, which had the garbage
// collector take a quarter of the proxy's CPU (bench/console-bench.ts). The pool holds what is in flight, which
// the bridge's high-water mark bounds; a chunk never recycled is simply collected.
export function connectUnixPooled(path: string, readBytes = UNIX_READ_BYTES): PooledUnixSocket {
  const free: Buffer[] = [];
  const owned = new Set<ArrayBuffer>();
  const socket: net.Socket = net.createConnection({
    path,
    onread: {
      buffer: () => {
        const b = free.pop();
        if (b) return b;
        const fresh = Buffer.allocUnsafeSlow(readBytes);
        owned.add(fresh.buffer as ArrayBuffer);
        return fresh;
      },
      callback: (n: number, buf: Uint8Array): boolean => {
        socket.emit('data', Buffer.from(buf.buffer, buf.byteOffset, n));
        return true;
      },
    },
  });
  return {
    socket,
    recycle: (chunk) => {
      if (owned.has(chunk.buffer as ArrayBuffer)) free.push(Buffer.from(chunk.buffer, 0, readBytes));
    },
  };
}

/** One console's connection to QEMU, and where its read buffers go back (pooled reads only). */
export interface ConsoleUpstream {
  socket: Duplex;
  recycle?: (chunk: Buffer) => void;
}

/** How dialConsole connects. */
export interface DialConsoleOptions {
  log: Logger;
  pooled?: boolean; // reads into pooled buffers (VNC's frame stream); default false
  connect?: (path: string) => Duplex; // another dialer (tests); default a unix socket connection
}

// The one way the consoles dial QEMU's unix sockets (VNC, serial): the socket is guarded from birth, so QEMU
// resetting or closing it (the VM ending, a refused connect) is logged and ends it with 'close' — never an
// unhandled 'error' — whatever its user has attached yet.
export function dialConsole(path: string, o: DialConsoleOptions): ConsoleUpstream {
  const up: ConsoleUpstream = o.connect ? { socket: o.connect(path) } : o.pooled ? connectUnixPooled(path) : { socket: net.createConnection(path) };
  guardSocket(up.socket, o.log, { upstream: path }, 'info');
  return up;
}
