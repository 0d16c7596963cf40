import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideRange } from '../../../controller/vendor/server/index.js';
import { KERNEL, seedStore, serveStore } from '../vendor/fake-store.js';
import { rawRequest } from '../vendor/raw-http.js';
import { fuzzOptions } from './fuzz-seed.js';

// Range abuse against the vendor server (its own tests cover the named cases; this fuzzes the rest): whatever the
// Range header, the answer is the whole file, exactly one satisfiable range inside the file, or 416 — and the body
// is exactly what the status and Content-Length say.
const spec = fc.oneof(
  fc.tuple(fc.nat({ max: 200_000 }), fc.option(fc.nat({ max: 200_000 }), { nil: undefined })).map(([a, b]) => `${a}-${b ?? ''}`),
  fc.nat({ max: 200_000 }).map((n) => `-${n}`),
  fc.constantFrom('-', '', '0-0', '99999999999999999999-', '-99999999999999999999', '1-0', 'x-y', ' 5 - 9 '),
);
const rangeHeader = fc.oneof(
  fc.array(spec, { minLength: 1, maxLength: 300 }).map((xs) => `bytes=${xs.join(',')}`),
  fc.tuple(fc.constantFrom('bytes', 'Bytes', 'items', 'bytes '), fc.array(spec, { minLength: 1, maxLength: 3 })).map(([u, xs]) => `${u}=${xs.join(',')}`),
  fc.string({ maxLength: 200 }),
);

describe('vendor Range decisions (property-based)', () => {
  it('always decide the whole file, one range inside it, or unsatisfiable', () => {
    fc.assert(
      fc.property(rangeHeader, fc.nat({ max: 150_000 }), (h, size) => {
        const d = decideRange(h, size);
        if (d.kind === 'partial') {
          expect(Number.isSafeInteger(d.start) && Number.isSafeInteger(d.end)).toBe(true);
          expect(0 <= d.start && d.start <= d.end && d.end < size).toBe(true);
        } else expect(['full', 'unsatisfiable']).toContain(d.kind);
      }),
      fuzzOptions(),
    );
  });

  it('serve exactly the requested bytes for one well-formed range inside the file', () => {
    fc.assert(
      fc.property(fc.nat({ max: 99_999 }), fc.nat({ max: 99_999 }), (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        expect(decideRange(`bytes=${start}-${end}`, 100_000)).toEqual({ kind: 'partial', start, end });
      }),
      fuzzOptions(),
    );
  });
});

describe('the vendor server under Range abuse', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-range-fuzz-'));
  let srv: Awaited<ReturnType<typeof serveStore>>;
  const path = '/vendor/v1/files/talos/v1.0.0/vmlinuz-amd64';
  beforeAll(async () => {
    srv = await serveStore(await seedStore(join(work, 'store')));
  });
  afterAll(async () => {
    await srv.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('answers every abusive Range header with a body that matches its status, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(rangeHeader.filter((h) => !/[\r\n\0]/.test(h) && h.length < 8000), async (h) => {
        const r = await rawRequest(srv.port, path, { Range: h });
        expect([200, 206, 416]).toContain(r.status);
        expect(Number(r.headers['content-length'] ?? r.body.length)).toBe(r.body.length);
        if (r.status === 200) expect(r.body.equals(KERNEL)).toBe(true);
        if (r.status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r.headers['content-range'] ?? '');
          expect(m).not.toBeNull();
          expect(r.body.equals(KERNEL.subarray(Number(m![1]), Number(m![2]) + 1))).toBe(true);
        }
        if (r.status === 416) expect(r.headers['content-range']).toBe(`bytes */${KERNEL.length}`);
      }),
      fuzzOptions(100),
    );
    expect((await rawRequest(srv.port, path)).body.equals(KERNEL)).toBe(true);
  });
});
