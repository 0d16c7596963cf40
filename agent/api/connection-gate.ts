import { SCOPES, XepaError, type Scope } from '../protocol/index.js';
import { AdmissionPool } from './admission-pool.js';
import { sourceKeyOf } from './source-key.js';

/** The agent server's connection limits (DESIGN §5); every field has a default. */
export interface ServerLimits {
  perScope?: Partial<Record<Scope, number>>; // open WebSockets per scope
  // Unauthenticated connections (from accept, TLS or not, until they become a WebSocket) are a budget of their own,
  // apart from the per-scope WebSocket budgets: when it is full the oldest waiting connection of the source holding
  // the most is evicted, not the newcomer; only a source over its own budget that churns faster than the grace has
  // its newcomer refused, at accept, before TLS (admission-pool.ts). There is no accept-time cap on all connections.
  maxPendingConnections?: number; // unauthenticated connections in all
  maxPendingPerSource?: number; // unauthenticated connections of one IPv4 address or IPv6 /64 (source-key.ts)
  pendingGraceMs?: number; // a full source's oldest connection is evicted for its newcomer only after this long
  listenBacklog?: number; // the kernel's accept queue (capped by net.core.somaxconn)
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
// Defaults of the other limits: deadlines short enough to shed slowloris, long enough for a slow link; an
// unauthenticated budget a few dozen idle TLS connections cannot fill (a few MiB of memory when it is full).
export const DEFAULT_LIMITS = {
  maxPendingConnections: 256,
  maxPendingPerSource: 64,
  pendingGraceMs: 5000,
  listenBacklog: 4096,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
} as const;

/** What the gate has seen: open WebSockets per scope, unauthenticated connections, and refusals by reason. */
export interface ServerStats {
  open: Record<Scope, number>;
  pending: number; // unauthenticated connections waiting
  pendingSources: number; // distinct sources among them
  refused: Record<string, number>;
}

/** The part of a socket the gate reads: its two endpoints (a raw TCP socket and its TLS socket agree on them). */
export interface PeerEndpoints {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
}

// Admits WebSockets per scope up to their limit, keeps unauthenticated connections in a fair pool of their own
// (evicting the oldest of the heaviest source when full), and counts every refusal by its reason (an error code,
// or `source-limit` / `pending-limit` for an eviction, `timeout`, `tls`, `bad-http`).
export class ConnectionGate {
  private readonly limits: Record<Scope, number>;
  private readonly open = Object.fromEntries(SCOPES.map((s) => [s, 0])) as Record<Scope, number>;
  private readonly refusedBy = new Map<string, number>();
  private readonly pool: AdmissionPool<string>;
  private readonly evictors = new Map<string, () => void>();

  constructor(limits: ServerLimits = {}, now?: () => number) {
    this.limits = { ...DEFAULT_SCOPE_LIMITS, ...limits.perScope };
    const total = limits.maxPendingConnections ?? DEFAULT_LIMITS.maxPendingConnections;
    const perSource = limits.maxPendingPerSource ?? DEFAULT_LIMITS.maxPendingPerSource;
    const graceMs = limits.pendingGraceMs ?? DEFAULT_LIMITS.pendingGraceMs;
    this.pool = new AdmissionPool<string>({ total, perSource, graceMs }, now);
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

  // A connection was accepted: it waits in the unauthenticated pool until it upgrades or closes. Connections
  // evicted to make room have `evict` called (each counted under its reason). Returns the connection's leave().
  enterPending(peer: PeerEndpoints, evict: () => void): () => void {
    const key = keyOf(peer);
    if (key === undefined) {
      evict(); // already gone: the peer reset before the accept was handled
      return () => undefined;
    }
    this.evictors.set(key, evict);
    for (const e of this.pool.enter(key, sourceKeyOf(peer.remoteAddress))) {
      this.count(e.reason);
      const evictIt = this.evictors.get(e.item);
      this.evictors.delete(e.item);
      evictIt?.();
    }
    return () => {
      if (this.evictors.get(key) === evict) this.forget(key); // not a later connection that reused the 4-tuple
    };
  }

  // The connection authenticated and became a WebSocket (or closed): it leaves the unauthenticated pool.
  leavePending(peer: PeerEndpoints): void {
    const key = keyOf(peer);
    if (key !== undefined) this.forget(key);
  }

  private forget(key: string): void {
    this.pool.leave(key);
    this.evictors.delete(key);
  }

  // Counts one refusal under `reason`.
  count(reason: string): void {
    this.refusedBy.set(reason, (this.refusedBy.get(reason) ?? 0) + 1);
  }

  // A copy of the counters.
  stats(): ServerStats {
    return { open: { ...this.open }, pending: this.pool.size(), pendingSources: this.pool.sourceCount(), refused: Object.fromEntries(this.refusedBy) };
  }
}

// One TCP connection's identity: the 4-tuple, the same on the raw socket and on the TLS socket wrapping it.
function keyOf(p: PeerEndpoints): string | undefined {
  if (!p.remoteAddress || p.remotePort === undefined) return undefined;
  return `${p.localAddress ?? ''}|${p.localPort ?? ''}|${p.remoteAddress}|${p.remotePort}`;
}
