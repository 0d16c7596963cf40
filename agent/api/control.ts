import type { Logger } from 'pino';
import {
  RequestEnvelope,
  jsonShapeProblem,
  XepaError,
  isMethodName,
  methods,
  toWireError,
  type EventEnvelope,
  type MethodName,
  type ParamsOut,
  type ResponseEnvelope,
  type Result,
} from '../protocol/index.js';
import type { IdempotencyCache } from './idempotency.js';

/** What a method handler knows about the call and the connection it came from. */
export interface CallContext {
  key: string; // the request's idempotency key
  connectionId: string;
  send(msg: EventEnvelope): void; // pushes a notification on this connection (dropped once it is closed)
  onClose(fn: () => void): void; // runs fn when this connection ends (at once if it already has)
  log: Logger;
  peer?: ConnectionPeer; // the connection's two ends (the protected set keeps the controller's NIC)
}

/** The addresses of a connection as the agent's socket sees them. */
export interface ConnectionPeer {
  remote?: string;
  local?: string;
}

// The agent's implementation of the method table: the compiler requires a handler for every method.
export type Handlers = { [M in MethodName]: (params: ParamsOut<M>, ctx: CallContext) => Promise<Result<M>> };

// Methods whose repeated (method, key) returns the first call's result instead of acting again.
export const IDEMPOTENT_METHODS: ReadonlySet<MethodName> = new Set<MethodName>(['install', 'job.cancel']);

/** The connection-side services the dispatcher needs to build a CallContext. */
export interface ControlConnection {
  id: string;
  peer?: ConnectionPeer;
  send(msg: EventEnvelope): void;
  onClose(fn: () => void): void;
  log: Logger;
}

/** Dependencies of the dispatcher. */
export interface DispatcherOptions {
  handlers: Handlers;
  idempotency: IdempotencyCache;
}

// Turns one incoming control message into its response.
export type Dispatch = (data: Buffer | string, isBinary: boolean, conn: ControlConnection) => Promise<ResponseEnvelope>;

const badRequest = (id: string | null, message: string, details?: Record<string, unknown>): ResponseEnvelope => ({
  id,
  error: details ? { code: 'ERR_BAD_REQUEST', message, details } : { code: 'ERR_BAD_REQUEST', message },
});

interface Issue {
  path: (string | number)[];
  message: string;
}

// zod issues in a compact, JSON-friendly form for error details.
export const summarizeIssues = (issues: Issue[]): { path: string; message: string }[] =>
  issues.slice(0, 20).map((i) => ({ path: i.path.join('.').slice(0, 200), message: i.message.slice(0, 200) }));

// The id of a message that is not a valid request, when it has a usable one (so the caller can match the refusal).
function idOf(raw: unknown): string | null {
  const id = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : null;
}

// Builds the control-channel dispatcher: validates at the edge, routes to the handler, maps errors to the wire.
export function createDispatcher(opts: DispatcherOptions): Dispatch {
  return async (data, isBinary, conn) => {
    if (isBinary) return badRequest(null, 'control messages must be JSON text frames, not binary');
    let raw: unknown;
    try {
      raw = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
    } catch {
      return badRequest(null, 'control message is not valid JSON');
    }
    // Shape before schema: huge arrays or deep nesting would cost seconds of CPU in zod (docs/reliability.md).
    const shape = jsonShapeProblem(raw);
    if (shape !== undefined) return badRequest(idOf(raw), `control message refused: ${shape}`);
    const env = RequestEnvelope.safeParse(raw);
    if (!env.success) {
      return badRequest(idOf(raw), 'not a request: expected { id, key, method, params }', { issues: summarizeIssues(env.error.issues) });
    }
    const { id, key, method } = env.data;
    if (!isMethodName(method)) {
      return { id, error: { code: 'ERR_UNKNOWN_METHOD', message: `unknown method "${method}"` } };
    }
    const parsed = methods[method].params.safeParse(env.data.params ?? {});
    if (!parsed.success) {
      return badRequest(id, `invalid params for ${method}`, { issues: summarizeIssues(parsed.error.issues) });
    }
    const log = conn.log.child({ method, reqId: id });
    const ctx: CallContext = { key, connectionId: conn.id, send: conn.send, onClose: conn.onClose, log, ...(conn.peer ? { peer: conn.peer } : {}) };
    const handler = opts.handlers[method] as (p: unknown, c: CallContext) => Promise<unknown>;
    const call = (): Promise<unknown> => handler(parsed.data, ctx);
    try {
      const result = IDEMPOTENT_METHODS.has(method)
        ? await opts.idempotency.run(method, key, parsed.data, call)
        : await call();
      return { id, result };
    } catch (err) {
      if (!(err instanceof XepaError)) log.error({ err }, 'handler failed');
      else log.debug({ code: err.code }, 'handler refused');
      return { id, error: toWireError(err) };
    }
  };
}
