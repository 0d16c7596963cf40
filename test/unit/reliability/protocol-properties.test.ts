import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTROL_JSON_LIMITS,
  ERROR_CODES,
  InstallRequest,
  SCOPES,
  ServerMessage,
  XepaError,
  fromWireError,
  jsonShapeProblem,
  methods,
  toWireError,
  verifyToken,
  type JsonShapeLimits,
  type MethodName,
} from '../../../agent/protocol/index.js';
import { fuzzOptions } from './fuzz-seed.js';

// Properties of the protocol schemas themselves, over generated input (bounded, seeded).
const METHODS = Object.keys(methods) as MethodName[];
const b64u = (x: string | Buffer): string => Buffer.from(x).toString('base64url');
const hostile = fc.oneof(fc.jsonValue({ maxDepth: 5 }), fc.anything({ maxDepth: 3, withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withNullPrototype: true }));

// A valid install request, built from the parts the schema allows.
const installRequest = fc.record(
  {
    iso: fc.record({
      url: fc.webUrl({ validSchemes: ['http', 'https'] }).filter((u) => u.length <= 4096),
      sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
      size: fc.option(fc.integer({ min: 1, max: 2 ** 40 }), { nil: undefined }),
    }, { requiredKeys: ['url', 'sha256'] }),
    disks: fc.array(fc.oneof(
      fc.record({ serial: fc.string({ minLength: 1, maxLength: 128 }) }),
      fc.record({ wwn: fc.string({ minLength: 1, maxLength: 128 }) }),
      fc.record({ path: fc.stringMatching(/^\/dev\/[A-Za-z0-9._/-]{1,40}$/) }),
    ), { minLength: 1, maxLength: 64 }),
    vm: fc.record({
      memoryMiB: fc.integer({ min: 256, max: 1 << 22 }),
      cpus: fc.integer({ min: 1, max: 256 }),
      firmware: fc.constantFrom('auto', 'bios', 'uefi'),
      accel: fc.constantFrom('auto', 'kvm', 'tcg'),
      diskBus: fc.constantFrom('virtio', 'sata', 'nvme'),
      endOn: fc.constantFrom('poweroff', 'reboot'),
    }, { requiredKeys: [] }),
    planHash: fc.string({ maxLength: 128 }),
  },
  { requiredKeys: ['iso', 'disks'] },
);

describe('protocol schemas (property-based)', () => {
  it('never throw on any input, for every method\'s params and result', () => {
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), hostile, (m, v) => {
        expect(() => methods[m].params.safeParse(v)).not.toThrow();
        expect(() => methods[m].result.safeParse(v)).not.toThrow();
      }),
      fuzzOptions(),
    );
  });

  it('accept what they produce: a parsed value survives JSON and parses to itself (params of every method)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), fc.jsonValue({ maxDepth: 4 }), (m, v) => {
        const first = methods[m].params.safeParse(v);
        if (!first.success) return;
        const again = methods[m].params.safeParse(JSON.parse(JSON.stringify(first.data)));
        expect(again.success).toBe(true);
        expect(again.success && again.data).toEqual(first.data);
      }),
      fuzzOptions(),
    );
  });

  it('accept every well-formed install request and keep it stable across the wire', () => {
    fc.assert(
      fc.property(installRequest, (req) => {
        const parsed = InstallRequest.safeParse(req);
        expect(parsed.success).toBe(true);
        if (parsed.success) expect(InstallRequest.parse(JSON.parse(JSON.stringify(parsed.data)))).toEqual(parsed.data);
      }),
      fuzzOptions(),
    );
  });

  it('refuse a well-formed install request with any unknown key added at any level', () => {
    fc.assert(
      fc.property(installRequest, fc.constantFrom('top', 'iso', 'disk', 'vm'), fc.string({ minLength: 1, maxLength: 20 }), (req, where, key) => {
        const known: Record<string, string[]> = { top: Object.keys(InstallRequest.shape), iso: ['url', 'sha256', 'size'], disk: ['serial', 'wwn', 'path'], vm: Object.keys(methods.install.params.shape.vm._def.innerType.shape) };
        fc.pre(!known[where]!.includes(key) && key !== '__proto__');
        const bad = structuredClone(req) as Record<string, any>;
        const target = where === 'top' ? bad : where === 'iso' ? bad.iso : where === 'disk' ? bad.disks[0] : (bad.vm ??= {});
        target[key] = 1;
        expect(InstallRequest.safeParse(bad).success).toBe(false);
      }),
      fuzzOptions(),
    );
  });

  it('let the controller parse any server message without throwing', () => {
    fc.assert(fc.property(hostile, (v) => void expect(() => ServerMessage.safeParse(v)).not.toThrow()), fuzzOptions());
  });

  it('carry every error code across the wire unchanged, and unknown codes as ERR_INTERNAL with the original kept', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ERROR_CODES), fc.string(), fc.string({ minLength: 1 }), (code, message, unknown) => {
        expect(fromWireError(toWireError(new XepaError(code, message))).code).toBe(code);
        fc.pre(!(ERROR_CODES as readonly string[]).includes(unknown));
        const e = fromWireError({ code: unknown, message });
        expect(e.code).toBe('ERR_INTERNAL');
        expect(e.details?.remoteCode).toBe(unknown);
      }),
      fuzzOptions(),
    );
  });
});

describe('verifyToken (property-based)', () => {
  const trusted = generateKeyPairSync('ed25519');
  const o = { keys: [trusted.publicKey], audience: 'agent-1', scope: 'control' as const };

  it('refuses any string that is not a token with ERR_UNAUTHORIZED, and nothing else', () => {
    const tokenish = fc.oneof(fc.string({ maxLength: 5000 }), fc.array(fc.base64String({ maxLength: 200 }), { minLength: 1, maxLength: 5 }).map((p) => p.join('.')));
    fc.assert(
      fc.property(tokenish, (t) => {
        let code: string | undefined;
        try {
          verifyToken(t, o);
        } catch (err) {
          code = err instanceof XepaError ? err.code : `not a XepaError: ${String(err)}`;
        }
        expect(code).toBe('ERR_UNAUTHORIZED');
      }),
      fuzzOptions(),
    );
  });

  it('accepts a trusted signature only over claims that are well-formed, current, for this agent and scope', () => {
    const now = 1_800_000_000;
    const claimsArb = fc.record({
      aud: fc.constantFrom('agent-1', 'agent-2', ''),
      scope: fc.array(fc.constantFrom(...SCOPES, 'root'), { maxLength: 3 }),
      iat: fc.integer({ min: now - 7200, max: now + 7200 }),
      nbf: fc.option(fc.integer({ min: now - 7200, max: now + 7200 }), { nil: undefined }),
      exp: fc.oneof(fc.integer({ min: now - 7200, max: now + 7200 }), fc.constant('soon')),
      jti: fc.string({ maxLength: 120 }),
      extra: fc.option(fc.boolean(), { nil: undefined }),
    }, { requiredKeys: ['aud', 'scope', 'iat', 'exp', 'jti'] });
    fc.assert(
      fc.property(claimsArb, (c) => {
        const input = `${b64u(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' }))}.${b64u(JSON.stringify(c))}`;
        const token = `${input}.${b64u(sign(null, Buffer.from(input), trusted.privateKey))}`;
        const ok =
          c.extra === undefined && typeof c.exp === 'number' && c.jti.length >= 1 && c.jti.length <= 100 && c.aud.length >= 1 &&
          c.scope.length >= 1 && !c.scope.includes('root') && c.exp + 30 > now && (c.nbf === undefined || c.nbf - 30 <= now) &&
          c.iat - 30 <= now && c.exp - c.iat <= 900 && c.exp - now <= 930 && c.aud === 'agent-1' && c.scope.includes('control');
        let code = 'ok';
        try {
          verifyToken(token, { ...o, now: now * 1000 });
        } catch (err) {
          code = (err as XepaError).code;
        }
        if (ok) expect(code).toBe('ok');
        else expect(['ERR_UNAUTHORIZED', 'ERR_FORBIDDEN']).toContain(code);
      }),
      fuzzOptions(),
    );
  });
});

// The shape bound against a plain recursive reference implementation (the oracle).
function exceeds(v: unknown, l: JsonShapeLimits, depth = 1, count = { n: 0 }): boolean {
  if (++count.n > l.maxNodes) return true;
  if (v === null || typeof v !== 'object') return false;
  if (depth > l.maxDepth) return true;
  const children = Array.isArray(v) ? v : Object.values(v as object);
  if (Array.isArray(v) ? v.length > l.maxArray : children.length > l.maxKeys) return true;
  return children.some((c) => exceeds(c, l, depth + 1, count));
}

describe('jsonShapeProblem (property-based)', () => {
  it('flags exactly the values a recursive reference flags, for small limits', () => {
    const limits: JsonShapeLimits = { maxDepth: 3, maxArray: 4, maxKeys: 4, maxNodes: 30 };
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        expect(jsonShapeProblem(v, limits) !== undefined).toBe(exceeds(v, limits));
      }),
      fuzzOptions(),
    );
  });

  it('lets every well-formed install request through with the control limits', () => {
    fc.assert(fc.property(installRequest, (r) => void expect(jsonShapeProblem(r, CONTROL_JSON_LIMITS)).toBeUndefined()), fuzzOptions());
  });
});
