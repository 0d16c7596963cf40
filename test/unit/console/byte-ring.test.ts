import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteRing } from '../../../agent/console/index.js';

describe('byte ring', () => {
  it('keeps exactly the last capacity bytes of everything written, in order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 20 }), (cap, writes) => {
        const ring = new ByteRing(cap);
        for (const w of writes) ring.write(Buffer.from(w));
        const all = Buffer.concat(writes.map((w) => Buffer.from(w)));
        expect(ring.snapshot()).toEqual(all.subarray(Math.max(0, all.length - cap)));
        expect(ring.length).toBe(Math.min(cap, all.length));
      }),
    );
  });

  it('holds nothing when its capacity is zero', () => {
    const ring = new ByteRing(0);
    ring.write(Buffer.from('abc'));
    expect(ring.snapshot()).toHaveLength(0);
  });
});
