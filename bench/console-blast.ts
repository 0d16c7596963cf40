import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type WebSocket from 'ws';

// The raw-tunnel half of the console benchmark: an upstream that speaks just enough RFB (3.8, security None) to
// get past the proxies' handshake handling, then blasts bytes down ('D' + u64 size), sinks them ('U' + u64
// size, acknowledged with one byte 'K') or echoes them ('E' + u64 ignored), and the client side over a
// WebSocket or a socket.

// An RFB ServerInit for a 1x1 screen, 32 bpp true colour (depth 24, little-endian RGB888), named `name` (the
// blast upstream's and the console tests' fake VNC servers).
export function rfbServerInit(name: string): Buffer {
  const b = Buffer.alloc(24 + name.length);
  b.writeUInt16BE(1, 0);
  b.writeUInt16BE(1, 2);
  Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(b, 4);
  b.writeUInt32BE(name.length, 20);
  b.write(name, 24, 'latin1');
  return b;
}

const SERVER_INIT = rfbServerInit('blast');

/** The blast upstream, listening on a unix socket. */
export interface BlastServer {
  path: string;
  close(): Promise<void>;
}

// Starts the blast upstream on `path`.
export async function startBlastServer(path: string): Promise<BlastServer> {
  const payload = randomBytes(1 << 20);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.write('RFB 003.008\n');
    let got = Buffer.alloc(0);
    let phase: 'handshake' | 'sink' | 'echo' = 'handshake';
    let left = 0;
    s.on('data', (d: Buffer) => {
      if (phase === 'sink') {
        left -= d.length;
        if (left <= 0) s.write('K');
        return;
      }
      if (phase === 'echo') return void s.write(d);
      got = Buffer.concat([got, d]);
      if (got.length >= 12 && got.length - d.length < 12) s.write(Buffer.from([1, 1]));
      if (got.length >= 13 && got.length - d.length < 13) s.write(Buffer.from([0, 0, 0, 0]));
      if (got.length >= 14 && got.length - d.length < 14) s.write(SERVER_INIT);
      if (got.length < 14 + 9) return;
      const cmd = String.fromCharCode(got[14]!);
      const size = Number(got.readBigUInt64BE(15));
      const rest = got.length - 23;
      if (cmd === 'E') {
        phase = 'echo';
        if (rest > 0) s.write(got.subarray(23));
        return;
      }
      if (cmd === 'U') {
        phase = 'sink';
        left = size - rest;
        if (left <= 0) s.write('K');
        return;
      }
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          const n = Math.min(payload.length, size - sent);
          sent += n;
          if (!s.write(n === payload.length ? payload : payload.subarray(0, n))) return void s.once('drain', pump);
        }
      };
      pump();
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Bytes both ways over a WebSocket or a socket, with a way to wait for the sender's buffer to drain. */
export interface BlastLink {
  send(b: Buffer): Promise<void>; // resolves when the link can take more (bounded in-flight data)
  onData(fn: (b: Buffer) => void): void;
  close(): void;
}

// A WebSocket as a blast link (resumes it: openAgentStream hands it over paused).
export function wsLink(ws: WebSocket): BlastLink {
  return {
    send: (b) =>
      new Promise((resolve) => {
        let waiting = false;
        ws.send(b, { binary: true }, () => waiting && resolve()); // written: everything before it is out too
        waiting = ws.bufferedAmount >= 4 << 20;
        if (!waiting) resolve();
      }),
    onData: (fn) => {
      ws.on('message', (d: Buffer) => fn(d));
      ws.resume();
    },
    close: () => ws.close(),
  };
}

// A socket as a blast link.
export function socketLink(s: net.Socket): BlastLink {
  return {
    send: (b) => new Promise((resolve) => (s.write(b) ? resolve() : s.once('drain', () => resolve()))),
    onData: (fn) => void s.on('data', fn),
    close: () => s.destroy(),
  };
}

// Does the blast server's RFB handshake; resolves when the session is ready for a command.
export function blastHandshake(link: BlastLink): Promise<{ take(fn: (b: Buffer) => void): void }> {
  return new Promise((resolve) => {
    let got = 0;
    let sink: ((b: Buffer) => void) | undefined;
    link.onData((d) => {
      if (sink) return sink(d);
      got += d.length;
      if (got >= 12 && got - d.length < 12) void link.send(Buffer.from('RFB 003.008\n'));
      if (got >= 14 && got - d.length < 14) void link.send(Buffer.from([1]));
      if (got >= 18 && got - d.length < 18) void link.send(Buffer.from([1]));
      if (got >= 18 + SERVER_INIT.length) resolve({ take: (fn) => (sink = fn) });
    });
  });
}

const command = (c: 'D' | 'U' | 'E', size: number): Buffer => {
  const b = Buffer.alloc(9);
  b.write(c, 0, 'latin1');
  b.writeBigUInt64BE(BigInt(size), 1);
  return b;
};

// Sends one byte at a time and waits for its echo, `n` times; resolves with each round trip in ms.
export async function blastEcho(link: BlastLink, n: number): Promise<number[]> {
  const s = await blastHandshake(link);
  let back: (() => void) | undefined;
  s.take(() => back?.());
  await link.send(command('E', 0));
  const rtt: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      back = resolve;
      void link.send(Buffer.from([i & 0xff]));
    });
    rtt.push(performance.now() - t0);
  }
  return rtt;
}

// Downloads `size` bytes through the link after the handshake; resolves when all have arrived.
export async function blastDown(link: BlastLink, size: number): Promise<void> {
  const s = await blastHandshake(link);
  await new Promise<void>((resolve) => {
    let got = 0;
    s.take((d) => {
      got += d.length;
      if (got >= size) resolve();
    });
    void link.send(command('D', size));
  });
}

// Uploads `size` bytes through the link after the handshake; resolves when the upstream acknowledged them all.
export async function blastUp(link: BlastLink, size: number, chunkBytes = 256 << 10): Promise<void> {
  const s = await blastHandshake(link);
  const acked = new Promise<void>((resolve) => s.take(() => resolve()));
  await link.send(command('U', size));
  const chunk = randomBytes(chunkBytes);
  for (let sent = 0; sent < size; sent += chunkBytes) await link.send(sent + chunkBytes <= size ? chunk : chunk.subarray(0, size - sent));
  await acked;
}
