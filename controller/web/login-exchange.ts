import type { KeyObject } from 'node:crypto';
import { XepaError } from '../../agent/protocol/index.js';
import { verifyLoginToken, type LoginClaims } from './login-token.js';

/** How the exchange checks tokens. */
export interface LoginExchangeOptions {
  publicKey: KeyObject; // the controller key that signs login links
  origin: string; // this console's origin (tokens made for another are refused)
  now?: () => number;
  maxRemembered?: number; // used token ids kept at most (until they expire); default 10 000
  maxLifetimeSeconds?: number; // longest link life accepted (default LOGIN_TOKEN_MAX_LIFETIME_SECONDS)
}

// Turns one-time login tokens into logins: each token id is accepted once, then remembered as used until it
// expires (after that the expiry check refuses it anyway). Used ids live in memory: a restarted console
// forgets them, which is why links are short-lived.
export class LoginExchange {
  private readonly used = new Map<string, number>(); // jti -> exp (s)
  private readonly now: () => number;

  constructor(private readonly o: LoginExchangeOptions) {
    this.now = o.now ?? Date.now;
  }

  // Verifies a token without using it up (the login page shows it; only the POST consumes it).
  check(token: string): LoginClaims {
    const claims = verifyLoginToken(token, {
      publicKey: this.o.publicKey, origin: this.o.origin, now: this.now(),
      ...(this.o.maxLifetimeSeconds !== undefined ? { maxLifetimeSeconds: this.o.maxLifetimeSeconds } : {}),
    });
    if (this.used.has(claims.jti)) throw new XepaError('ERR_UNAUTHORIZED', 'login link refused: it was already used (links work once; ask for a new one)');
    return claims;
  }

  // Verifies and uses up a token: a second call with the same token throws ERR_UNAUTHORIZED.
  consume(token: string): LoginClaims {
    const claims = this.check(token);
    this.sweep();
    if (this.used.size >= (this.o.maxRemembered ?? 10_000)) {
      // Refuse rather than forget a used id: forgetting would let that link work twice.
      throw new XepaError('ERR_UNAUTHORIZED', 'login refused: too many recent logins, try again in a few minutes');
    }
    this.used.set(claims.jti, claims.exp);
    return claims;
  }

  private sweep(): void {
    const s = Math.floor(this.now() / 1000);
    for (const [jti, exp] of this.used) if (exp <= s) this.used.delete(jti);
  }
}
