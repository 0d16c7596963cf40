import { open as openFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { XepaError, isENOENT } from '../../protocol/index.js';
import { ByteRing } from './byte-ring.js';
import { CLOSE, closeReason } from '../limits.js';
import { dialConsole } from '../unix-connect.js';

/** One serial viewer as the hub sees it (a ws WebSocket fits). */
export interface SerialViewer {
  send(data: Buffer, cb?: (err?: Error) => void): void;
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
  pause(): void;
  resume(): void;
}

/** What a SerialHub needs; connect and readTail default to the real unix socket and file. */
export interface SerialHubOptions {
  socketPath: string; // QEMU's chardev socket (it serves one client at a time: the hub is that client)
  logPath?: string; // QEMU's logfile= for this port: seeds the scrollback with output from before the hub
  ringBytes: number;
  viewerBacklogBytes: number;
  log: Logger;
  connect?: (path: string) => Duplex;
  readTail?: (path: string, bytes: number) => Promise<Buffer>;
}

/** A viewer's handle on the hub. */
export interface SerialAttachment {
  input(data: Buffer): void; // bytes typed by this viewer, to the guest
  detach(): void;
}

// One serial port shared by any number of viewers. QEMU's socket chardev serves a single client, so the hub
// holds the only connection: it keeps the last ringBytes of output (a late viewer gets them first), fans output
// out to every viewer and merges their input. The guest is never held up by a viewer: one that falls more
// than viewerBacklogBytes behind is dropped (close 1013) instead. Input is flow-controlled: while QEMU does not
// take it, every viewer's WebSocket stops reading.
export class SerialHub {
  private readonly ring: ByteRing;
  private readonly viewers = new Set<SerialViewer>();
  private readonly closeFns: (() => void)[] = [];
  private ended = false;
  private inputBlocked = false;

  private constructor(private readonly upstream: Duplex, private readonly o: SerialHubOptions) {
    this.ring = new ByteRing(o.ringBytes);
  }

  // Connects to the port's socket, seeds the scrollback from the log's tail, and starts relaying.
  // Rejects with ERR_CONNECT when the socket cannot be reached (VM gone).
  static async open(o: SerialHubOptions): Promise<SerialHub> {
    const { socket: upstream } = dialConsole(o.socketPath, { log: o.log, ...(o.connect ? { connect: o.connect } : {}) });
    const early: Buffer[] = [];
    const collect = (c: Buffer): number => early.push(c);
    upstream.on('data', collect);
    await new Promise<void>((resolve, reject) => {
      upstream.once('connect', () => resolve());
      upstream.once('error', (err) => reject(new XepaError('ERR_CONNECT', `cannot open serial socket ${o.socketPath}: ${err.message}`, { cause: err })));
    });
    // The log has everything QEMU saw before this connection; output from now on arrives on the socket. (QEMU
    // accepts a moment after connect() returns: a line written in that instant may be seen twice or not in the log.)
    const seed = o.logPath ? await (o.readTail ?? readTail)(o.logPath, o.ringBytes) : Buffer.alloc(0);
    const hub = new SerialHub(upstream, o);
    upstream.off('data', collect);
    hub.ring.write(seed);
    for (const c of early) hub.ring.write(c);
    hub.start();
    return hub;
  }

  // True once the port's socket has closed (the VM ended).
  get closed(): boolean {
    return this.ended;
  }

  // How many viewers are attached.
  get viewerCount(): number {
    return this.viewers.size;
  }

  // Calls fn once when the hub ends.
  onClose(fn: () => void): void {
    if (this.ended) fn();
    else this.closeFns.push(fn);
  }

  // Adds a viewer: it first receives the scrollback, then live output.
  attach(viewer: SerialViewer): SerialAttachment {
    if (this.ended) {
      viewer.close(CLOSE.normal, 'the serial port is closed: the VM ended');
      return { input: () => undefined, detach: () => undefined };
    }
    const scrollback = this.ring.snapshot();
    if (scrollback.length > 0) viewer.send(scrollback);
    this.viewers.add(viewer);
    if (this.inputBlocked) viewer.pause();
    return {
      input: (data) => {
        if (this.ended || data.length === 0) return;
        if (!this.upstream.write(data) && !this.inputBlocked) {
          this.inputBlocked = true;
          for (const v of this.viewers) v.pause();
          this.upstream.once('drain', () => {
            this.inputBlocked = false;
            for (const v of this.viewers) v.resume();
          });
        }
      },
      detach: () => {
        this.viewers.delete(viewer);
      },
    };
  }

  // Ends the hub: closes the socket and every viewer.
  close(reason = 'the serial port is closed'): void {
    if (this.ended) return;
    this.ended = true;
    this.upstream.destroy();
    for (const v of this.viewers) v.close(CLOSE.normal, closeReason(reason));
    this.viewers.clear();
    for (const fn of this.closeFns.splice(0)) fn();
  }

  private start(): void {
    this.upstream.on('data', (chunk: Buffer) => {
      this.ring.write(chunk);
      for (const v of this.viewers) {
        if (v.bufferedAmount > this.o.viewerBacklogBytes) {
          this.o.log.info({ behind: v.bufferedAmount }, 'serial viewer too slow: dropped');
          this.viewers.delete(v);
          v.close(CLOSE.tryAgainLater, closeReason(`serial viewer fell more than ${this.o.viewerBacklogBytes} bytes behind: reconnect`));
          continue;
        }
        v.send(chunk);
      }
    });
    // Errors are logged and end the socket where it was dialled (dialConsole); 'close' follows, even one that
    // came while the scrollback was being read.
    this.upstream.on('close', () => this.close('the serial port closed: the VM ended'));
    if (this.upstream.destroyed) this.close('the serial port closed: the VM ended');
  }
}

// The last `bytes` of a file (empty when it does not exist yet).
export async function readTail(path: string, bytes: number): Promise<Buffer> {
  let fh;
  try {
    fh = await openFile(path, 'r');
  } catch (err) {
    if (isENOENT(err)) return Buffer.alloc(0);
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, size - len);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
