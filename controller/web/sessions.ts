import { randomBytes } from 'node:crypto';
import type { WebRole } from './login-token.js';

// Default session lifetime: a working day at the console.
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/** A logged-in browser: the cookie holds only `id`, everything else stays on the server. */
export interface WebSession {
  id: string;
  role: WebRole;
  createdAt: number;
  expiresAt: number;
}

/** How sessions are made and when they end. */
export interface SessionStoreOptions {
  ttlMs?: number;
  now?: () => number;
  random?: (bytes: number) => Buffer; // default crypto.randomBytes
  onEnd?: (s: WebSession) => void; // a session expired or was revoked: close what it holds open
}

const ID = /^[A-Za-z0-9_-]{43}$/; // 32 random bytes, base64url

// Server-side sessions keyed by an opaque random id (256 bits). Expired sessions are refused and forgotten.
export class SessionStore {
  private readonly sessions = new Map<string, WebSession>();
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(private readonly o: SessionStoreOptions = {}) {
    this.now = o.now ?? Date.now;
    this.ttlMs = o.ttlMs ?? SESSION_TTL_MS;
  }

  // Starts a session for a role and returns it (its id goes into the cookie).
  create(role: WebRole): WebSession {
    const id = (this.o.random ?? randomBytes)(32).toString('base64url');
    const t = this.now();
    const s: WebSession = { id, role, createdAt: t, expiresAt: t + this.ttlMs };
    this.sessions.set(id, s);
    return s;
  }

  // The live session with this id, or undefined (unknown, malformed or expired).
  get(id: string | undefined): WebSession | undefined {
    if (!id || !ID.test(id)) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.end(s);
      return undefined;
    }
    return s;
  }

  // Ends a session now (logout).
  revoke(id: string): void {
    const s = this.sessions.get(id);
    if (s) this.end(s);
  }

  // Ends every expired session; call it now and then so their sockets get closed.
  sweep(): void {
    const t = this.now();
    for (const s of [...this.sessions.values()]) if (s.expiresAt <= t) this.end(s);
  }

  // How many sessions are live (for logs and tests).
  get size(): number {
    return this.sessions.size;
  }

  private end(s: WebSession): void {
    this.sessions.delete(s.id);
    this.o.onEnd?.(s);
  }
}
