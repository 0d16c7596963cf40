import { SCOPES, XepaError, type Scope } from '../protocol/index.js';

/** The agent server's connection limits (DESIGN §5); every field has a default. */
export interface ServerLimits {
  perScope?: Partial<Record<Scope, number>>; // open WebSockets per scope
  maxPendingConnections?: number; // TLS connections that have not (yet) become a WebSocket: slowloris bound
  maxConnections?: number; // all TCP connections, refused by the kernel-facing listener beyond this
  headersTimeoutMs?: number; // a request's headers must arrive within this
  requestTimeoutMs?: number; // a whole (non-upgrade) request must arrive within this
  handshakeTimeoutMs?: number; // the TLS handshake must finish within this
}

// Defaults: enough for 20+ VNC viewers of one job, a few controllers, one QMP owner with spares for a
// reconnect; small enough that a flood of authenticated connections cannot exhaust the rescue system.
export const DEFAULT_SCOPE_LIMITS: Readonly<Record<Scope, number>> = {
  control: 32,
  vnc: 32,
  'vnc:view': 64,
  serial: 16,
  qmp: 4,
  shell: 4,
};
// Defaults of the other limits: deadlines short enough to shed slowloris, long enough for a slow link.
export const DEFAULT_LIMITS = {
  maxPendingConnections: 64,
  maxConnections: 512,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
} as const;

/** What the gate has seen: open WebSockets per scope, pending connections, and refusals by reason. */
export interface ServerStats {
  open: Record<Scope, number>;
  pending: number;
  refused: Record<string, number>;
}

// Admits WebSockets per scope up to their limit, bounds the connections that have not upgraded yet, and counts
// every refusal by its reason (an error code, or `pending-limit` / `connection-limit` / `timeout`).
export class ConnectionGate {
  private readonly limits: Record<Scope, number>;
  private readonly open = Object.fromEntries(SCOPES.map((s) => [s, 0])) as Record<Scope, number>;
  private readonly refusedBy = new Map<string, number>();
  private readonly pendingSockets = new Set<object>();
  private readonly maxPending: number;

  constructor(limits: ServerLimits = {}) {
    this.limits = { ...DEFAULT_SCOPE_LIMITS, ...limits.perScope };
    this.maxPending = limits.maxPendingConnections ?? DEFAULT_LIMITS.maxPendingConnections;
  }

  // Takes one slot of `scope`; throws ERR_UNAVAILABLE (counted) when the scope is full. Call release() once.
  admit(scope: Scope): () => void {
    if (this.open[scope] >= this.limits[scope]) {
      throw new XepaError('ERR_UNAVAILABLE', `too many ${scope} connections (limit ${this.limits[scope]}): close one and try again`, {
        details: { scope, limit: this.limits[scope] },
      });
    }
    this.open[scope]++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open[scope]--;
    };
  }

  // A new connection that has not upgraded: false (counted) when there are already too many.
  enterPending(socket: object): boolean {
    if (this.pendingSockets.size >= this.maxPending) {
      this.count('pending-limit');
      return false;
    }
    this.pendingSockets.add(socket);
    return true;
  }

  // The connection upgraded, or closed.
  leavePending(socket: object): void {
    this.pendingSockets.delete(socket);
  }

  // Counts one refusal under `reason`.
  count(reason: string): void {
    this.refusedBy.set(reason, (this.refusedBy.get(reason) ?? 0) + 1);
  }

  // A copy of the counters.
  stats(): ServerStats {
    return { open: { ...this.open }, pending: this.pendingSockets.size, refused: Object.fromEntries(this.refusedBy) };
  }
}
