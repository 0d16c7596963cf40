import { XepaError, type TokenClaims } from '../protocol/index.js';

/** Limits and clock of a ReplayCache. */
export interface ReplayCacheOptions {
  maxEntries?: number; // default 10 000 tokens remembered at once
  leewaySeconds?: number; // kept past `exp` as long as verifyToken's leeway accepts it; default 30
  now?: () => number; // ms since epoch
}

// Makes console tokens single-use: remembers each accepted token's `jti` until the token has expired (plus the
// verifier's leeway), and refuses a second upgrade with the same jti. Bounded: when full of unexpired tokens it
// refuses new ones (ERR_UNAVAILABLE) rather than forgetting one, since forgetting would allow a replay.
export class ReplayCache {
  private readonly seen = new Map<string, number>(); // jti -> forget after (ms)
  private readonly maxEntries: number;
  private readonly leewayMs: number;
  private readonly now: () => number;
  private prunedAt = 0;

  constructor(o: ReplayCacheOptions = {}) {
    this.maxEntries = o.maxEntries ?? 10_000;
    this.leewayMs = (o.leewaySeconds ?? 30) * 1000;
    this.now = o.now ?? Date.now;
  }

  // Records the token's jti; throws ERR_UNAUTHORIZED when it was already used, ERR_UNAVAILABLE when full.
  claim(claims: Pick<TokenClaims, 'jti' | 'exp'>): void {
    const now = this.now();
    this.prune(now);
    if (this.seen.has(claims.jti)) {
      throw new XepaError('ERR_UNAUTHORIZED', 'token refused: already used (console tokens are single-use: mint a new one)');
    }
    if (this.seen.size >= this.maxEntries) {
      throw new XepaError('ERR_UNAVAILABLE', `too many console tokens in use (${this.maxEntries}): try again when some have expired`);
    }
    this.seen.set(claims.jti, claims.exp * 1000 + this.leewayMs);
  }

  // Number of remembered tokens (for stats and tests).
  get size(): number {
    return this.seen.size;
  }

  // Forgets expired tokens: at most once a second, or at once when the cache is full.
  private prune(now: number): void {
    if (now - this.prunedAt < 1000 && this.seen.size < this.maxEntries) return;
    this.prunedAt = now;
    for (const [jti, until] of this.seen) if (until <= now) this.seen.delete(jti);
  }
}
