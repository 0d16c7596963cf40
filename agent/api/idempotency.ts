import { XepaError } from '../protocol/index.js';

/** Limits and clock of an IdempotencyCache. */
export interface IdempotencyOptions {
  maxEntries?: number; // default 1000; the oldest entry is evicted first
  ttlMs?: number; // default 24 h
  now?: () => number;
}

interface Entry {
  params: string;
  at: number;
  promise: Promise<unknown>;
}

// Remembers the result promise of each (method, key) so that a retried request (same connection, another
// connection, after a reconnect) gets the very same result instead of running the action twice.
export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: IdempotencyOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 1000;
    this.ttlMs = opts.ttlMs ?? 24 * 3600_000;
    this.now = opts.now ?? Date.now;
  }

  // Runs `fn` once per (method, key) within the TTL and returns its promise to every caller. A key reused
  // with different params is refused with ERR_BAD_REQUEST rather than silently answered with another result.
  run<T>(method: string, key: string, params: unknown, fn: () => Promise<T>): Promise<T> {
    const id = `${method}\u0000${key}`;
    const p = JSON.stringify(params ?? null);
    const now = this.now();
    this.prune(now);
    const hit = this.entries.get(id);
    if (hit) {
      if (hit.params !== p) {
        return Promise.reject(
          new XepaError('ERR_BAD_REQUEST', `idempotency key "${key}" was already used for a different ${method} request`),
        );
      }
      return hit.promise as Promise<T>;
    }
    const promise = Promise.resolve().then(fn);
    promise.catch(() => undefined); // callers observe the rejection; the cache itself must not be "unhandled"
    this.entries.set(id, { params: p, at: now, promise });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return promise;
  }

  // Number of remembered entries (for tests and metrics).
  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    // Map iteration follows insertion order, which is also age order.
    for (const [id, e] of this.entries) {
      if (now - e.at < this.ttlMs) break;
      this.entries.delete(id);
    }
  }
}
