import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import {
  ServerMessage,
  XepaError,
  fromWireError,
  methods,
  type JobEvent,
  type MethodName,
  type ParamsIn,
  type Result,
} from '../../agent/protocol/index.js';
import { openControlSocket } from './control-socket.js';
import { JobFollowers } from './job-followers.js';

/** Connection status changes, for telling the user what is going on. */
export type ClientStatus =
  | { state: 'connected' }
  | { state: 'disconnected'; reason: string }
  | { state: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { state: 'reconnected'; attempt: number }
  | { state: 'closed'; error?: XepaError };

/** Options of connectAgent. */
export interface ConnectAgentOptions {
  url: string; // wss://host:port
  fingerprint: string; // the agent certificate's SHA-256 fingerprint
  token: () => string | Promise<string>; // called for every (re)connection: tokens are short-lived
  log?: Logger;
  reconnect?: boolean; // default true
  backoff?: { minMs?: number; maxMs?: number }; // default 1 s .. 15 s, doubling
  giveUpAfterMs?: number; // reconnecting longer than this fails everything with ERR_CONNECT; default 120 s
  callTimeoutMs?: number; // default for call(); default 60 s
  connectTimeoutMs?: number; // per attempt; default 10 s
  pingIntervalMs?: number; // detect a dead agent; default 20 s
  onStatus?: (s: ClientStatus) => void;
}

/** Options of one call. */
export interface CallOptions {
  key?: string; // idempotency key; default a fresh UUID (kept across reconnects)
  timeoutMs?: number;
}

interface Pending {
  id: string;
  frame: string;
  method: MethodName;
  resolve(v: unknown): void;
  reject(e: XepaError): void;
  timer: NodeJS.Timeout;
  resend: boolean; // false for subscriptions, which are redone with a fresh `after` instead
}

// Errors after which reconnecting cannot help.
const FATAL = new Set(['ERR_TLS_PIN', 'ERR_UNAUTHORIZED', 'ERR_FORBIDDEN', 'ERR_NOT_FOUND', 'ERR_CONFIG']);

// A control-channel client: typed calls validated against the method table, job following, and transparent
// reconnection that re-sends in-flight calls with the same idempotency key and resumes followed jobs.
export class AgentClient {
  private ws: WebSocket | undefined;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly followers: JobFollowers;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ConnectAgentOptions, ws: WebSocket) {
    this.followers = new JobFollowers({
      subscribe: (job, after) => this.send('job.events', { job, after }, {}, false),
      getJob: (job) => this.call('job.get', { job }),
      log: o.log,
    });
    this.attach(ws);
  }

  // Calls a method and resolves with its validated result; an error reply rejects with its XepaError.
  call<M extends MethodName>(method: M, params: ParamsIn<M>, opts: CallOptions = {}): Promise<Result<M>> {
    return this.send(method, params, opts, true);
  }

  // Streams a job's events (seq > after) to onEvent, each exactly once and in order, across reconnects;
  // resolves when the job reaches a terminal state.
  followJob(job: string, opts: { after?: number; onEvent: (e: JobEvent) => void }): Promise<void> {
    if (this.closed) return Promise.reject(new XepaError('ERR_CONNECT', 'the client is closed'));
    return this.followers.follow(job, opts.after ?? 0, opts.onEvent);
  }

  // Closes the connection; pending calls and follows fail with ERR_CONNECT.
  async close(): Promise<void> {
    this.shutdown(new XepaError('ERR_CONNECT', 'connection closed by the client'), false);
  }

  private send<M extends MethodName>(method: M, params: ParamsIn<M>, opts: CallOptions, resend: boolean): Promise<Result<M>> {
    if (this.closed) return Promise.reject(new XepaError('ERR_CONNECT', 'the client is closed'));
    const local = methods[method].params.safeParse(params);
    if (!local.success) {
      return Promise.reject(new XepaError('ERR_BAD_REQUEST', `invalid params for ${method}`, { details: { issues: local.error.issues } }));
    }
    const id = String(this.nextId++);
    const key = opts.key ?? randomUUID();
    const timeoutMs = opts.timeoutMs ?? this.o.callTimeoutMs ?? 60_000;
    return new Promise<Result<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new XepaError('ERR_TIMEOUT', `${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const frame = JSON.stringify({ id, key, method, params });
      this.pending.set(id, { id, frame, method, resolve: resolve as (v: unknown) => void, reject, timer, resend });
      this.ws?.send(frame);
    });
  }

  private attach(ws: WebSocket): void {
    this.ws = ws;
    let alive = true;
    ws.on('pong', () => (alive = true));
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, this.o.pingIntervalMs ?? 20_000);
    this.pingTimer.unref();
    ws.on('message', (data, isBinary) => {
      if (this.ws === ws && !isBinary) this.onMessage(String(data));
    });
    ws.once('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      clearInterval(this.pingTimer);
      if (!this.closed) void this.onDrop(`connection lost (${code}${reason.length ? ` ${reason}` : ''})`);
    });
    for (const p of this.pending.values()) ws.send(p.frame); // same id and idempotency key as before
    this.followers.resubscribe();
  }

  private onMessage(text: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.o.log?.warn('agent sent a message that is not JSON');
      return;
    }
    const msg = ServerMessage.safeParse(raw);
    if (!msg.success) return void this.o.log?.warn('agent sent a message outside the protocol');
    const m = msg.data;
    if ('event' in m) return this.followers.deliver(m.data);
    if (m.id === null) return void this.o.log?.warn({ code: 'error' in m ? m.error.code : undefined }, 'agent refused a message');
    const p = this.pending.get(m.id);
    if (!p) return; // QMP-style: replies with unknown ids (timed out, answered twice) are dropped
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if ('error' in m) return p.reject(fromWireError(m.error));
    const r = methods[p.method].result.safeParse(m.result);
    if (r.success) p.resolve(r.data);
    else p.reject(new XepaError('ERR_PROTOCOL_VERSION', `the agent's ${p.method} result does not match the protocol`, { details: { issues: r.error.issues } }));
  }

  private async onDrop(reason: string): Promise<void> {
    this.o.onStatus?.({ state: 'disconnected', reason });
    for (const p of [...this.pending.values()]) {
      if (p.resend) continue;
      this.pending.delete(p.id);
      clearTimeout(p.timer);
    }
    this.followers.disconnected();
    if (this.o.reconnect === false) return this.shutdown(new XepaError('ERR_CONNECT', `agent ${reason}`));
    const min = this.o.backoff?.minMs ?? 1000;
    const max = this.o.backoff?.maxMs ?? 15_000;
    const deadline = Date.now() + (this.o.giveUpAfterMs ?? 120_000);
    let last = reason;
    for (let attempt = 1; !this.closed; attempt++) {
      const delayMs = Math.min(max, min * 2 ** Math.min(attempt - 1, 20));
      if (Date.now() + delayMs > deadline) break;
      this.o.onStatus?.({ state: 'reconnecting', attempt, delayMs, reason: last });
      await new Promise((r) => setTimeout(r, delayMs));
      if (this.closed) return;
      try {
        const ws = await openControlSocket({ url: this.o.url, fingerprint: this.o.fingerprint, token: await this.o.token(), timeoutMs: this.o.connectTimeoutMs });
        if (this.closed) return void ws.close();
        this.o.onStatus?.({ state: 'reconnected', attempt });
        this.attach(ws);
        return;
      } catch (err) {
        const e = err instanceof XepaError ? err : new XepaError('ERR_CONNECT', String(err), { cause: err });
        if (FATAL.has(e.code)) return this.shutdown(e);
        last = e.message;
      }
    }
    this.shutdown(new XepaError('ERR_CONNECT', `gave up reconnecting to ${this.o.url}: ${last}`));
  }

  private shutdown(err: XepaError, report = true): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.followers.failAll(err);
    this.ws?.close();
    this.ws = undefined;
    this.o.onStatus?.(report ? { state: 'closed', error: err } : { state: 'closed' });
  }
}

// Connects to an agent's control channel (pinned TLS, fresh token) and returns a client once the first
// connection is up; failures of this first connection are reported at once (ERR_TLS_PIN, ERR_UNAUTHORIZED ...).
export async function connectAgent(o: ConnectAgentOptions): Promise<AgentClient> {
  const ws = await openControlSocket({ url: o.url, fingerprint: o.fingerprint, token: await o.token(), timeoutMs: o.connectTimeoutMs });
  const client = new AgentClient(o, ws);
  o.onStatus?.({ state: 'connected' });
  return client;
}

