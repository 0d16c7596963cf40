import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { XepaError } from '../protocol/index.js';
import { QmpFramer, encodeQmpMessage } from './framing.js';
import { classifyQmpMessage, type QmpEvent, type QmpGreeting } from './messages.js';

// How QmpClient.connect reaches QMP; the default dials a unix socket.
export interface QmpConnectOptions {
  log: Logger;
  /** Deadline for greeting + capability negotiation (default 10 s). */
  timeoutMs?: number;
  connect?: (path: string) => Duplex;
  maxLineBytes?: number;
}

// Per-call options of QmpClient.execute.
export interface QmpExecuteOptions {
  /** Rejects with ERR_TIMEOUT after this long; a late reply is then dropped as an unknown id. */
  timeoutMs?: number;
}

// The events of a QmpClient: QMP events as they arrive, and one 'close' (with the reason when abnormal).
export type QmpClientEvents = { event: [QmpEvent]; close: [Error | undefined] };

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

type Phase = 'greeting' | 'negotiating' | 'running' | 'closed';

const defaultConnect = (path: string): Duplex => net.createConnection(path);

// A QMP client in the spirit of QEMU's Python one: greeting, negotiation, then commands matched by id.
export class QmpClient extends EventEmitter<QmpClientEvents> {
  private phase: Phase = 'greeting';
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private greetingValue: QmpGreeting | undefined;
  private handshake: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly framer: QmpFramer;

  private constructor(
    private readonly socket: Duplex,
    private readonly log: Logger,
    maxLineBytes: number | undefined,
  ) {
    super();
    this.framer = new QmpFramer(maxLineBytes === undefined ? {} : { maxLineBytes });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('end', () => this.fail(undefined));
    socket.on('close', () => this.fail(undefined));
  }

  // Connects to a QMP socket, reads the greeting and negotiates capabilities; resolves in the running phase.
  static async connect(path: string, opts: QmpConnectOptions): Promise<QmpClient> {
    const log = opts.log.child({ mod: 'qmp' });
    const client = new QmpClient((opts.connect ?? defaultConnect)(path), log, opts.maxLineBytes);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        client.handshake = { resolve, reject };
        timer = setTimeout(() => {
          const err = new XepaError('ERR_TIMEOUT', `no QMP session on ${path} within ${timeoutMs} ms (phase: ${client.phase})`);
          client.fail(err);
        }, timeoutMs);
      });
    } catch (err) {
      throw err instanceof XepaError ? err : new XepaError('ERR_CONNECT', `cannot open QMP on ${path}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    log.debug({ path, qemu: client.greeting.version.qemu }, 'qmp connected');
    return client;
  }

  // The greeting QEMU sent (its version and capabilities).
  get greeting(): QmpGreeting {
    if (!this.greetingValue) throw new XepaError('ERR_QMP_PROTOCOL', 'QMP greeting not received yet');
    return this.greetingValue;
  }

  // True once the connection has ended (every later execute rejects with ERR_QMP_DISCONNECTED).
  get closed(): boolean {
    return this.phase === 'closed';
  }

  // Runs one QMP command; resolves with its "return", rejects with ERR_QMP_COMMAND on a QMP error.
  execute<T = unknown>(command: string, args?: object, opts: QmpExecuteOptions = {}): Promise<T> {
    if (this.phase === 'closed') {
      return Promise.reject(new XepaError('ERR_QMP_DISCONNECTED', `cannot run QMP command ${command}: connection closed`));
    }
    const id = `xepa-${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { command, resolve: resolve as (v: unknown) => void, reject };
      if (opts.timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new XepaError('ERR_TIMEOUT', `QMP command ${command} got no reply within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
      this.pending.set(id, entry);
      const msg: Record<string, unknown> = { execute: command, id };
      if (args !== undefined) msg.arguments = args;
      this.socket.write(encodeQmpMessage(msg));
    });
  }

  // Closes the connection; pending calls reject with ERR_QMP_DISCONNECTED. Resolves once the socket is gone.
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    const gone = this.socket.destroyed ? Promise.resolve() : new Promise<void>((r) => this.socket.once('close', () => r()));
    this.fail(undefined, 'closed by the client');
    await gone;
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    try {
      for (const obj of this.framer.feed(chunk)) this.dispatch(obj);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private dispatch(obj: Record<string, unknown>): void {
    const msg = classifyQmpMessage(obj);
    if (this.phase === 'greeting') {
      if (msg.kind !== 'greeting') throw new XepaError('ERR_QMP_PROTOCOL', `QMP did not start with a greeting (got ${msg.kind})`);
      this.greetingValue = msg.greeting;
      this.phase = 'negotiating';
      this.execute('qmp_capabilities').then(
        () => {
          if (this.phase !== 'negotiating') return;
          this.phase = 'running';
          this.handshake?.resolve();
          this.handshake = undefined;
        },
        (err: Error) => this.fail(err),
      );
      return;
    }
    switch (msg.kind) {
      case 'greeting':
        throw new XepaError('ERR_QMP_PROTOCOL', 'QMP sent a second greeting');
      case 'event':
        this.emit('event', msg.event);
        return;
      case 'return':
      case 'error': {
        const entry = typeof msg.id === 'string' ? this.pending.get(msg.id) : undefined;
        if (!entry) {
          // QMP spec: a reply whose id we did not send (or already gave up on) is dropped.
          this.log.debug({ id: msg.id, kind: msg.kind }, 'qmp reply with unknown id dropped');
          return;
        }
        this.pending.delete(msg.id as string);
        clearTimeout(entry.timer);
        if (msg.kind === 'return') entry.resolve(msg.value);
        else {
          entry.reject(
            new XepaError('ERR_QMP_COMMAND', `QMP command ${entry.command} failed: ${msg.errorClass}: ${msg.desc}`, {
              details: { command: entry.command, class: msg.errorClass, desc: msg.desc },
            }),
          );
        }
      }
    }
  }

  // Ends the session once: destroys the socket, fails every pending call, emits 'close'.
  private fail(reason: Error | undefined, why = 'connection closed'): void {
    if (this.phase === 'closed') return;
    const phase = this.phase;
    this.phase = 'closed';
    this.socket.destroy();
    const text = reason ? `${why}: ${reason.message}` : why;
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      clearTimeout(entry.timer);
      const opts = reason ? { cause: reason } : {};
      entry.reject(new XepaError('ERR_QMP_DISCONNECTED', `QMP command ${entry.command} failed: ${text}`, opts));
    }
    if (this.handshake) {
      this.handshake.reject(handshakeError(phase, reason));
      this.handshake = undefined;
    } else {
      if (reason) this.log.warn({ err: reason }, 'qmp connection lost');
      this.emit('close', reason);
    }
  }
}

// Maps why the handshake ended to the error of its phase (QEMU's Python client: one error per phase).
function handshakeError(phase: Phase, reason: Error | undefined): Error {
  if (reason instanceof XepaError) return reason;
  if (reason && phase === 'greeting') {
    return new XepaError('ERR_CONNECT', `cannot connect to QMP: ${reason.message}`, { cause: reason });
  }
  const opts = reason ? { cause: reason } : {};
  return new XepaError('ERR_QMP_DISCONNECTED', `QMP closed during ${phase === 'greeting' ? 'the greeting' : 'negotiation'}`, opts);
}
