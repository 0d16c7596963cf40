import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ControlConnection } from '../../../agent/api/control.js';
import { createDispatcher } from '../../../agent/api/control.js';
import { IdempotencyCache } from '../../../agent/api/idempotency.js';
import { methods, type MethodName, type ResponseEnvelope } from '../../../agent/protocol/index.js';
import { silentLog } from '../api/fixtures.js';
import { fuzzOptions } from './fuzz-seed.js';
import { recordingHandlers } from './support.js';

// The control dispatcher against hostile input: whatever arrives, the answer is a well-formed refusal
// (ERR_BAD_REQUEST, or ERR_UNKNOWN_METHOD for a well-formed request naming no method), and a handler only ever
// sees params its schema accepts — checked against the schema itself as the oracle.
const METHODS = Object.keys(methods) as MethodName[];
const conn: ControlConnection = { id: 'fuzz', send: () => undefined, onClose: () => undefined, log: silentLog() };

function setup() {
  const { handlers, calls } = recordingHandlers();
  const dispatch = createDispatcher({ handlers, idempotency: new IdempotencyCache() });
  return { dispatch, calls };
}
const codeOf = (r: ResponseEnvelope): string | undefined => ('error' in r ? r.error.code : undefined);

const VALID_INSTALL = {
  iso: { url: 'https://mirror.example/os.iso', sha256: 'a'.repeat(64) },
  disks: [{ serial: 'S3Z9NB0K123456' }],
  vm: { memoryMiB: 2048 },
};

// Replaces the value at one path of a JSON object with `v`.
function mutate(obj: unknown, path: (string | number)[], v: unknown): unknown {
  if (path.length === 0) return v;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(obj)) return obj.map((x, i) => (i === head ? mutate(x, rest, v) : x));
  if (obj && typeof obj === 'object') return { ...obj, [head]: mutate((obj as Record<string, unknown>)[head as string], rest, v) };
  return v;
}
const INSTALL_PATHS: (string | number)[][] = [[], ['iso'], ['iso', 'url'], ['iso', 'sha256'], ['iso', 'size'], ['disks'], ['disks', 0], ['disks', 0, 'serial'], ['disks', 0, 'path'], ['vm'], ['vm', 'memoryMiB'], ['vm', 'endOn'], ['nics'], ['planHash'], ['extra']];

describe('control dispatcher under fuzzing (fast-check, bounded)', () => {
  it('answers random bytes, as text or binary, with ERR_BAD_REQUEST and never reaches a handler', async () => {
    const { dispatch, calls } = setup();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), async (bytes, binary) => {
        const r = await dispatch(Buffer.from(bytes), binary, conn);
        expect(codeOf(r)).toBe('ERR_BAD_REQUEST');
      }),
      fuzzOptions(),
    );
    expect(calls).toEqual([]);
  });

  it('answers any JSON value that is not a request envelope with ERR_BAD_REQUEST', async () => {
    const { dispatch, calls } = setup();
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (v) => {
        const r = await dispatch(JSON.stringify(v) ?? 'null', false, conn);
        expect(codeOf(r)).toBe('ERR_BAD_REQUEST');
      }),
      fuzzOptions(),
    );
    expect(calls).toEqual([]);
  });

  it('refuses envelopes with wrong types in id, key or method, echoing a usable id only', async () => {
    const { dispatch, calls } = setup();
    const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 100 }));
    await fc.assert(
      fc.asyncProperty(field, field, field, fc.jsonValue({ maxDepth: 3 }), async (id, key, method, params) => {
        const validId = typeof id === 'string' && id.length >= 1 && id.length <= 64;
        const validKey = typeof key === 'string' && key.length >= 1 && key.length <= 128;
        const validMethod = typeof method === 'string' && method.length >= 1 && method.length <= 64;
        fc.pre(!(validId && validKey && validMethod));
        const r = await dispatch(JSON.stringify({ id, key, method, params }), false, conn);
        expect(codeOf(r)).toBe('ERR_BAD_REQUEST');
        expect(r.id).toBe(validId ? id : null);
      }),
      fuzzOptions(),
    );
    expect(calls).toEqual([]);
  });

  it('answers a well-formed request for a method that is not in the table with ERR_UNKNOWN_METHOD', async () => {
    const { dispatch, calls } = setup();
    const tricky = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'job.', 'HELLO', ' hello');
    await fc.assert(
      fc.asyncProperty(fc.oneof(tricky, fc.string({ minLength: 1, maxLength: 64 })), async (method) => {
        fc.pre(!Object.hasOwn(methods, method));
        const r = await dispatch(JSON.stringify({ id: '1', key: 'k', method, params: {} }), false, conn);
        expect(codeOf(r)).toBe('ERR_UNKNOWN_METHOD');
      }),
      fuzzOptions(),
    );
    expect(calls).toEqual([]);
  });

  it('calls a method only with params its schema accepts, and refuses the rest with ERR_BAD_REQUEST', async () => {
    const { dispatch, calls } = setup();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), fc.jsonValue({ maxDepth: 5 }), async (method, params) => {
        const before = calls.length;
        const key = `key-${n++}`; // a fresh key: idempotency must not answer from an earlier call
        const r = await dispatch(JSON.stringify({ id: 'p', key, method, params }), false, conn);
        const oracle = methods[method].params.safeParse(params ?? {});
        if (oracle.success) {
          expect(codeOf(r)).toBeUndefined();
          expect(calls.slice(before)).toEqual([{ method, params: oracle.data }]);
        } else {
          expect(codeOf(r)).toBe('ERR_BAD_REQUEST');
          expect(calls.length).toBe(before);
        }
      }),
      fuzzOptions(),
    );
  });

  it('refuses an install request with one field replaced by a random value exactly when its schema does', async () => {
    const { dispatch, calls } = setup();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...INSTALL_PATHS), fc.jsonValue({ maxDepth: 4 }), async (path, value) => {
        const params = mutate(VALID_INSTALL, path, value);
        const before = calls.length;
        const r = await dispatch(JSON.stringify({ id: 'm', key: `m-${n++}`, method: 'install', params }), false, conn);
        const oracle = methods.install.params.safeParse(params);
        expect(codeOf(r) === undefined).toBe(oracle.success);
        expect(calls.length - before).toBe(oracle.success ? 1 : 0);
      }),
      fuzzOptions(),
    );
  });
});

describe('control dispatcher against oversized shapes', () => {
  const huge = (n: number, item: string): string => `[${Array(n).fill(item).join(',')}]`;
  const env = (params: string): string => `{"id":"big","key":"k","method":"install","params":${params}}`;
  const cases: [string, string][] = [
    ['an array of 500 000 numbers in disks', env(`{"iso":{"url":"https://x/y.iso","sha256":"${'a'.repeat(64)}"},"disks":${huge(500_000, '0')}}`)],
    ['an array of 90 000 objects in nics', env(`{"iso":{"url":"https://x/y.iso","sha256":"${'a'.repeat(64)}"},"disks":[{"serial":"s"}],"nics":${huge(90_000, '{"name":1}')}}`)],
    ['400 000 nested arrays', env(`${'['.repeat(400_000)}${']'.repeat(400_000)}`)],
    ['150 000 nested objects', env(`${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}`)],
    ['an object with 60 000 keys', env(`{${Array.from({ length: 60_000 }, (_, i) => `"k${i}":1`).join(',')}}`)],
  ];
  for (const [what, frame] of cases) {
    it(`refuses ${what} with ERR_BAD_REQUEST before any schema runs, keeping the request id`, async () => {
      const { dispatch, calls } = setup();
      expect(frame.length).toBeLessThanOrEqual(1 << 20);
      const r = await dispatch(frame, false, conn);
      expect(codeOf(r)).toBe('ERR_BAD_REQUEST');
      expect('error' in r && r.error.message).toMatch(/refused: (an array of|nested deeper|an object with|more than)/);
      expect(r.id).toBe('big');
      expect(calls).toEqual([]);
    });
  }

  it('keeps error details small when a key is enormous', async () => {
    const { dispatch } = setup();
    const r = await dispatch(JSON.stringify({ id: '1', key: 'k', method: 'hello', params: { protocol: 1, ['x'.repeat(500_000)]: 1 } }), false, conn);
    expect(codeOf(r)).toBe('ERR_BAD_REQUEST');
    expect(JSON.stringify(r).length).toBeLessThan(10_000);
  });
});
