import type { Socket } from 'node:net';
import type WebSocket from 'ws';

// A small RFB 3.8 client (security None, raw encoding) for the console tests and the benchmark. It speaks over
// any byte transport: a WebSocket (agent /v1/vnc, websockify) or a socket (QEMU's own unix socket, a forward).

/** Bytes both ways, whatever carries them. */
export interface RfbTransport {
  send(b: Buffer): void;
  onData(fn: (b: Buffer) => void): void;
  onClose(fn: () => void): void;
  close(): void;
}

// A WebSocket as a transport (resumes it: openAgentStream hands it over paused).
export function wsTransport(ws: WebSocket): RfbTransport {
  return {
    send: (b) => ws.send(b, { binary: true }),
    onData: (fn) => {
      ws.on('message', (d: Buffer) => fn(d));
      ws.resume();
    },
    onClose: (fn) => void ws.once('close', fn),
    close: () => ws.close(),
  };
}

// A net socket as a transport.
export function socketTransport(s: Socket): RfbTransport {
  return { send: (b) => void s.write(b), onData: (fn) => void s.on('data', fn), onClose: (fn) => void s.once('close', fn), close: () => s.destroy() };
}

// Reads exact byte counts from a chunked stream; skip() consumes without copying (pixel data).
class ByteReader {
  private chunks: Buffer[] = [];
  private avail = 0;
  private want: { n: number; copy: boolean; resolve: (b: Buffer) => void } | undefined;
  private failure: Error | undefined;
  private failWaiter: ((e: Error) => void) | undefined;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.avail += chunk.length;
    this.serve();
  }

  fail(err: Error): void {
    this.failure = err;
    this.failWaiter?.(err);
  }

  read(n: number, copy = true): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.want = { n, copy, resolve };
      this.failWaiter = reject;
      this.serve();
    });
  }

  private serve(): void {
    const w = this.want;
    if (!w) return;
    if (!w.copy) {
      // skipping: consume what is there, keep waiting for the rest
      while (w.n > 0 && this.chunks.length > 0) {
        const c = this.chunks[0]!;
        const take = Math.min(c.length, w.n);
        w.n -= take;
        this.avail -= take;
        if (take === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(take);
      }
      if (w.n === 0) {
        this.want = undefined;
        w.resolve(Buffer.alloc(0));
      }
      return;
    }
    if (this.avail < w.n) return;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.avail);
    this.chunks = all.length > w.n ? [all.subarray(w.n)] : [];
    this.avail -= w.n;
    this.want = undefined;
    w.resolve(all.subarray(0, w.n));
  }
}

/** One FramebufferUpdate as it arrived. */
export interface RfbUpdate {
  rects: number;
  pixelBytes: number;
  full: boolean; // the rectangles carried as many pixels as the whole screen has
}

// An RFB client session after the handshake.
export class RfbClient {
  width = 0;
  height = 0;
  name = '';
  private readonly reader = new ByteReader();
  private updates: ((u: RfbUpdate) => void)[] = [];
  private failed: ((e: Error) => void)[] = [];

  private constructor(private readonly t: RfbTransport) {
    t.onData((d) => this.reader.push(d));
    t.onClose(() => {
      const err = new Error('RFB connection closed');
      this.reader.fail(err);
      for (const f of this.failed.splice(0)) f(err);
    });
  }

  // Completes the RFB 3.8 handshake (security None, shared); resolves with the session after ServerInit.
  static async connect(t: RfbTransport): Promise<RfbClient> {
    const c = new RfbClient(t);
    const r = c.reader;
    const version = (await r.read(12)).toString('latin1');
    if (!version.startsWith('RFB 003.')) throw new Error(`not an RFB server: ${JSON.stringify(version)}`);
    t.send(Buffer.from('RFB 003.008\n', 'latin1'));
    const n = (await r.read(1))[0]!;
    if (n === 0) throw new Error('RFB server refused the connection');
    const types = [...(await r.read(n))];
    if (!types.includes(1)) throw new Error(`RFB server offers no "None" security: ${types.join(',')}`);
    t.send(Buffer.from([1]));
    if ((await r.read(4)).readUInt32BE(0) !== 0) throw new Error('RFB security handshake failed');
    t.send(Buffer.from([1])); // ClientInit: shared
    const init = await r.read(24);
    c.width = init.readUInt16BE(0);
    c.height = init.readUInt16BE(2);
    c.name = (await r.read(init.readUInt32BE(20))).toString('utf8');
    if (init[4] !== 32) throw new Error(`server pixel format has ${init[4]} bpp; this client reads 32`);
    c.setEncodings([0, -223]); // raw, DesktopSize
    void c.loop().catch(() => undefined);
    return c;
  }

  // SetEncodings.
  setEncodings(list: number[]): void {
    const b = Buffer.alloc(4 + 4 * list.length);
    b[0] = 2;
    b.writeUInt16BE(list.length, 2);
    list.forEach((e, i) => b.writeInt32BE(e, 4 + 4 * i));
    this.t.send(b);
  }

  // FramebufferUpdateRequest for the whole screen, or for a w x h region at the top left.
  requestUpdate(incremental: boolean, w = this.width, h = this.height): void {
    const b = Buffer.alloc(10);
    b[0] = 3;
    b[1] = incremental ? 1 : 0;
    b.writeUInt16BE(w, 6);
    b.writeUInt16BE(h, 8);
    this.t.send(b);
  }

  // Resolves with the next FramebufferUpdate once all of it has arrived.
  nextUpdate(): Promise<RfbUpdate> {
    return new Promise((resolve, reject) => {
      this.updates.push(resolve);
      this.failed.push(reject);
    });
  }

  // KeyEvent (X11 keysym).
  key(keysym: number, down: boolean): void {
    const b = Buffer.alloc(8);
    b[0] = 4;
    b[1] = down ? 1 : 0;
    b.writeUInt32BE(keysym, 4);
    this.t.send(b);
  }

  // Presses and releases each character of an ASCII string (\r is Return).
  type(text: string): void {
    for (const ch of text) {
      const sym = ch === '\r' || ch === '\n' ? 0xff0d : ch.charCodeAt(0);
      this.key(sym, true);
      this.key(sym, false);
    }
  }

  // PointerEvent.
  pointer(x: number, y: number, buttons: number): void {
    const b = Buffer.alloc(6);
    b[0] = 5;
    b[1] = buttons;
    b.writeUInt16BE(x, 2);
    b.writeUInt16BE(y, 4);
    this.t.send(b);
  }

  close(): void {
    this.t.close();
  }

  private async loop(): Promise<void> {
    const r = this.reader;
    for (;;) {
      const type = (await r.read(1))[0]!;
      if (type === 0) {
        const n = (await r.read(3)).readUInt16BE(1);
        let pixelBytes = 0;
        for (let i = 0; i < n; i++) {
          const h = await r.read(12);
          const [w, hh, enc] = [h.readUInt16BE(4), h.readUInt16BE(6), h.readInt32BE(8)];
          if (enc === 0) {
            await r.read(w * hh * 4, false);
            pixelBytes += w * hh * 4;
          } else if (enc === -223) {
            this.width = w;
            this.height = hh;
          } else if (enc === -224) break; // LastRect
          else throw new Error(`unexpected encoding ${enc}`);
        }
        const waiter = this.updates.shift();
        this.failed.shift();
        waiter?.({ rects: n, pixelBytes, full: pixelBytes >= this.width * this.height * 4 });
      } else if (type === 1) {
        const n = (await r.read(5)).readUInt16BE(3);
        await r.read(6 * n, false);
      } else if (type === 2) {
        // Bell
      } else if (type === 3) {
        await r.read((await r.read(7)).readUInt32BE(3), false);
      } else throw new Error(`unexpected RFB server message ${type}`);
    }
  }
}
