import { describe, expect, it } from 'vitest';
import { AdmissionPool, type Eviction } from '../../../agent/api/admission-pool.js';
import { sourceKeyOf } from '../../../agent/api/source-key.js';

// The admission policy for unauthenticated connections, without sockets: a clock the test moves, items as strings.
function pool(total: number, perSource: number): { p: AdmissionPool<string>; tick(ms: number): void } {
  let t = 1000;
  return { p: new AdmissionPool<string>({ total, perSource }, () => t), tick: (ms) => void (t += ms) };
}
const items = (es: Eviction<string>[]): string[] => es.map((e) => e.item);

describe('per-source budget', () => {
  it('admits the newcomer and evicts the oldest connection of its own source when that source is full', () => {
    const { p, tick } = pool(100, 3);
    for (const a of ['a1', 'a2', 'a3']) {
      expect(p.enter(a, '10.0.0.1')).toEqual([]);
      tick(10);
    }
    const out = p.enter('a4', '10.0.0.1');
    expect(out).toEqual([{ item: 'a1', source: '10.0.0.1', reason: 'source-limit', ageMs: 30 }]);
    expect(p.has('a4')).toBe(true);
    expect(p.size('10.0.0.1')).toBe(3);
  });

  it('refuses the newcomer of a source churning faster than the grace, and evicts its oldest once that one is old enough', () => {
    const t0 = 1000;
    let t = t0;
    const p = new AdmissionPool<string>({ total: 100, perSource: 2, graceMs: 500 }, () => t);
    p.enter('a1', 'A');
    t += 100;
    p.enter('a2', 'A');
    t += 399;
    expect(p.enter('a3', 'A')).toEqual([{ item: 'a3', source: 'A', reason: 'source-limit', ageMs: 0 }]);
    expect([p.has('a1'), p.has('a2'), p.has('a3')]).toEqual([true, true, false]);
    t = t0 + 500;
    expect(items(p.enter('a4', 'A'))).toEqual(['a1']);
    expect(items(p.enter('a5', 'A'))).toEqual(['a5']); // a2 is 400 ms old
    expect(p.enter('b1', 'B')).toEqual([]); // another source is not concerned
  });

  it('paces a churning source\'s own evictions evenly (one per grace / perSource), even when all its connections came of age at once', () => {
    let t = 0;
    const p = new AdmissionPool<string>({ total: 100, perSource: 4, graceMs: 4000 }, () => t);
    for (const a of ['a1', 'a2', 'a3', 'a4']) p.enter(a, 'A'); // all admitted at t = 0
    t = 5000; // every one of them is past the grace now
    expect(items(p.enter('a5', 'A'))).toEqual(['a1']);
    t += 999; // under 4000 / 4 ms since that eviction: the newcomer is refused, no handshake burst
    expect(items(p.enter('a6', 'A'))).toEqual(['a6']);
    t += 1;
    expect(items(p.enter('a7', 'A'))).toEqual(['a2']);
    expect(p.enter('b1', 'B')).toEqual([]); // another source's pace is its own
  });

  it('never touches another source when one source is over its budget', () => {
    const { p, tick } = pool(100, 2);
    p.enter('legit', '10.0.0.9');
    tick(1);
    const evicted = ['f1', 'f2', 'f3', 'f4', 'f5'].flatMap((f) => items(p.enter(f, '10.0.0.1')));
    expect(evicted).toEqual(['f1', 'f2', 'f3']);
    expect(p.has('legit')).toBe(true);
  });
});

describe('total budget', () => {
  it('evicts from the source holding the most, its oldest first, even when another source holds an older one', () => {
    const { p, tick } = pool(4, 4);
    p.enter('b1', 'B'); // the oldest connection of all, but B holds only one
    tick(5);
    for (const a of ['a1', 'a2', 'a3']) {
      p.enter(a, 'A');
      tick(5);
    }
    const out = p.enter('c1', 'C');
    expect(out).toEqual([{ item: 'a1', source: 'A', reason: 'pending-limit', ageMs: 15 }]);
    expect(['b1', 'a2', 'a3', 'c1'].every((i) => p.has(i))).toBe(true);
    expect(p.size()).toBe(4);
  });

  it('evicts the oldest connection of all when every source holds the same number', () => {
    const { p, tick } = pool(3, 3);
    for (const [i, s] of [['x', 'X'], ['y', 'Y'], ['z', 'Z']] as const) {
      p.enter(i, s);
      tick(1);
    }
    expect(items(p.enter('w', 'W'))).toEqual(['x']);
    expect(items(p.enter('v', 'V'))).toEqual(['y']);
  });

  it('keeps a prompt client in when floods from many sources fill the pool over and over', () => {
    // 8 flooding sources with 16 connections each against a pool of 64: every flood connection pushes out a
    // flood connection, the client connecting in the middle (its own source) is never chosen.
    const { p, tick } = pool(64, 16);
    const evicted: string[] = [];
    for (let n = 0; n < 2000; n++) {
      if (n === 1000) p.enter('legit', '10.250.9.2');
      evicted.push(...items(p.enter(`f${n}`, `10.250.1.${n % 8}`)));
      tick(1);
    }
    expect(p.has('legit')).toBe(true);
    expect(evicted).not.toContain('legit');
    expect(p.size()).toBe(64);
    expect(p.sourceCount()).toBe(9);
  });

  it('lets no source that already holds the most take slots from others when the pool is full; within the grace its newcomer is refused', () => {
    let t = 0;
    const p = new AdmissionPool<string>({ total: 4, perSource: 4, graceMs: 100 }, () => t);
    p.enter('a1', 'A');
    p.enter('a2', 'A');
    p.enter('b1', 'B');
    p.enter('c1', 'C');
    expect(p.enter('a3', 'A')).toEqual([{ item: 'a3', source: 'A', reason: 'pending-limit', ageMs: 0 }]);
    t = 100;
    expect(items(p.enter('a4', 'A'))).toEqual(['a1']); // its own oldest, now past the grace; B and C keep theirs
    expect(items(p.enter('d1', 'D'))).toEqual(['a2']); // a lighter source takes from the heaviest at once
  });

  it('evicts within one source only what is needed when both budgets are exceeded at once', () => {
    const { p } = pool(3, 2);
    p.enter('a1', 'A');
    p.enter('a2', 'A');
    p.enter('b1', 'B');
    const out = p.enter('a3', 'A');
    expect(out.map((e) => [e.item, e.reason])).toEqual([['a1', 'source-limit']]);
    expect(p.size()).toBe(3);
  });
});

describe('leaving', () => {
  it('frees the slot of a connection that authenticated or closed, once', () => {
    const { p } = pool(2, 2);
    p.enter('a', 'A');
    p.enter('b', 'B');
    expect(p.leave('a')).toBe(true);
    expect(p.leave('a')).toBe(false);
    expect(p.enter('c', 'C')).toEqual([]);
    expect(p.sourceCount()).toBe(2);
  });

  it('reports an evicted connection as gone (its later close frees nothing twice)', () => {
    const { p } = pool(1, 1);
    p.enter('a', 'A');
    expect(items(p.enter('b', 'B'))).toEqual(['a']);
    expect(p.leave('a')).toBe(false);
    expect(p.size()).toBe(1);
  });

  it('refuses budgets below one', () => {
    expect(() => new AdmissionPool({ total: 0, perSource: 1 })).toThrow(RangeError);
  });
});

describe('sources', () => {
  it('counts an IPv4 address as itself, IPv4-mapped IPv6 as the IPv4 address, IPv6 by its /64', () => {
    expect(sourceKeyOf('10.250.3.2')).toBe('10.250.3.2');
    expect(sourceKeyOf('::ffff:10.250.3.2')).toBe('10.250.3.2');
    expect(sourceKeyOf('2001:db8:1:2::5')).toBe('2001:db8:1:2::/64');
    expect(sourceKeyOf('2001:0db8:0001:0002:ffff:0:0:1')).toBe('2001:db8:1:2::/64');
    expect(sourceKeyOf('2001:db8::1')).toBe(sourceKeyOf('2001:db8:0:0:aaaa::2'));
    expect(sourceKeyOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceKeyOf('::1')).toBe('0:0:0:0::/64');
    expect(sourceKeyOf(undefined)).toBe('unknown');
  });
});
