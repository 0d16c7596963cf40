import { describe, expect, it } from 'vitest';
import { addCandidate, addRejected, channelsOf, emptyIndex, promote, resolveRelease, rollback, HISTORY_DEPTH, type ReleaseIndex } from '../../../controller/vendor/index.js';
import { codeOf } from '../../support/error-code.js';

const now = new Date('2025-01-01T00:00:00Z');
const file = { name: 'k', role: 'kernel', sha256: 'a'.repeat(64), size: 1, origin: 'u' };
const withCandidates = (...versions: string[]): ReleaseIndex => versions.reduce((i, v) => addCandidate(i, v, [file], now), emptyIndex('talos', now));

describe('release index and channels', () => {
  it('promotes a candidate to stable and keeps the stable it replaces as previous', () => {
    let idx = promote(withCandidates('v1', 'v2'), 'v1', now);
    expect(idx.stable).toBe('v1');
    idx = promote(idx, 'v2', now);
    expect(resolveRelease(idx, 'stable')?.version).toBe('v2');
    expect(resolveRelease(idx, 'previous')?.version).toBe('v1');
    expect(channelsOf(idx)).toEqual({ v2: ['stable'], v1: ['previous'] });
  });

  it('rolls back to the previous stable and withdraws the one rolled back from', () => {
    const idx = promote(promote(withCandidates('v1', 'v2'), 'v1', now), 'v2', now);
    const r = rollback(idx, now);
    expect(r).toMatchObject({ from: 'v2', to: 'v1' });
    expect(r.index.stable).toBe('v1');
    expect(r.index.history).toEqual([]);
    expect(r.index.releases.find((x) => x.version === 'v2')?.status).toBe('withdrawn');
  });

  it('refuses a rollback with no previous stable', () => {
    expect(codeOf(() => rollback(promote(withCandidates('v1'), 'v1', now), now))).toBe('ERR_NOT_FOUND');
  });

  it('names the newest candidate as the candidate channel and never resolves a rejected release', () => {
    let idx = withCandidates('v1', 'v2');
    expect(resolveRelease(idx, 'candidate')?.version).toBe('v2');
    idx = addRejected(idx, 'v3', 'ERR_FETCH_DIGEST', 'bad', now);
    expect(resolveRelease(idx, 'v3')).toBeUndefined();
    expect(resolveRelease(idx, 'candidate')?.version).toBe('v2');
    expect(codeOf(() => promote(idx, 'v3', now))).toBe('ERR_BAD_REQUEST');
  });

  it(`remembers at most ${HISTORY_DEPTH} earlier stables`, () => {
    const versions = Array.from({ length: HISTORY_DEPTH + 3 }, (_, i) => `v${i}`);
    let idx = withCandidates(...versions);
    for (const v of versions) idx = promote(idx, v, now);
    expect(idx.history).toHaveLength(HISTORY_DEPTH);
    expect(idx.history[0]).toBe(versions.at(-2));
  });
});
