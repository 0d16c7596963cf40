import { describe, expect, it } from 'vitest';
import { createProgressReporter, defaultBackoff, type FetchProgress } from '../../../agent/iso/fetch.js';

describe('createProgressReporter', () => {
  it('reports at most every interval or every 1 %, always the final one, with the session rate', () => {
    let t = 0;
    const seen: FetchProgress[] = [];
    const r = createProgressReporter((p) => seen.push(p), { now: () => t, intervalMs: 250, startBytes: 1000 });
    t = 100;
    r.update(1100, 100_000); // first report
    t = 150;
    r.update(1200, 100_000); // throttled: 50 ms later, 0.1 %
    t = 200;
    r.update(2200, 100_000); // 1 % more: reported
    t = 500;
    r.update(2300, 100_000); // 300 ms later: reported
    t = 1000;
    r.final(100_000, 100_000);
    expect(seen.map((p) => p.bytes)).toEqual([1100, 2200, 2300, 100_000]);
    expect(seen[0]).toEqual({ bytes: 1100, total: 100_000, rateBps: 1000 });
    expect(seen[3]?.rateBps).toBe(99_000);
  });

  it('omits total and rate when unknown', () => {
    const seen: FetchProgress[] = [];
    const r = createProgressReporter((p) => seen.push(p), { now: () => 0 });
    r.final(5, undefined);
    expect(seen).toEqual([{ bytes: 5 }]);
  });
});

describe('defaultBackoff', () => {
  it('grows exponentially from 500 ms, caps at 30 s, and jitters within the upper half', () => {
    expect(defaultBackoff(1, () => 0)).toBe(250);
    expect(defaultBackoff(1, () => 1)).toBe(500);
    expect(defaultBackoff(3, () => 1)).toBe(2000);
    expect(defaultBackoff(20, () => 1)).toBe(30_000);
    expect(defaultBackoff(20, () => 0)).toBe(15_000);
  });
});
