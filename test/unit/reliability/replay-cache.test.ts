import { describe, expect, it } from 'vitest';
import { ReplayCache } from '../../../agent/api/replay-cache.js';
import { XepaError } from '../../../agent/protocol/index.js';

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as XepaError).code;
  }
};

describe('ReplayCache', () => {
  it('refuses a jti seen before, until the token has expired past the leeway', () => {
    let now = 1_000_000;
    const cache = new ReplayCache({ now: () => now, leewaySeconds: 30 });
    const claims = { jti: 'a', exp: 1_060 }; // expires at 1 060 s = 1 060 000 ms
    expect(codeOf(() => cache.claim(claims))).toBeUndefined();
    expect(codeOf(() => cache.claim(claims))).toBe('ERR_UNAUTHORIZED');
    now = 1_089_000; // exp + 29 s: verifyToken would still accept the token, so the cache still remembers it
    expect(codeOf(() => cache.claim(claims))).toBe('ERR_UNAUTHORIZED');
    now = 1_091_000;
    expect(codeOf(() => cache.claim({ jti: 'other', exp: 2_000 }))).toBeUndefined();
    expect(cache.size).toBe(1); // 'a' forgotten once it can no longer be presented
  });

  it('refuses new tokens with ERR_UNAVAILABLE when full of unexpired ones, instead of forgetting one', () => {
    const cache = new ReplayCache({ maxEntries: 3, now: () => 0 });
    for (const jti of ['a', 'b', 'c']) cache.claim({ jti, exp: 60 });
    expect(codeOf(() => cache.claim({ jti: 'd', exp: 60 }))).toBe('ERR_UNAVAILABLE');
    expect(codeOf(() => cache.claim({ jti: 'a', exp: 60 }))).toBe('ERR_UNAUTHORIZED');
    expect(cache.size).toBe(3);
  });
});
