import { createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { XepaError } from './errors.js';

// Token scopes (DESIGN §5): what a connection may do on the agent.
export const SCOPES = ['control', 'vnc', 'vnc:view', 'serial', 'qmp', 'shell'] as const;
export type Scope = (typeof SCOPES)[number];

export const TokenClaims = z
  .object({
    iss: z.string().max(200).optional(),
    aud: z.string().min(1).max(200), // the agent id
    scope: z.array(z.enum(SCOPES)).min(1),
    iat: z.number().int(),
    nbf: z.number().int().optional(),
    exp: z.number().int(),
    jti: z.string().min(1).max(100),
  })
  .strict();
export type TokenClaims = z.infer<typeof TokenClaims>;

const HEADER = { alg: 'EdDSA', typ: 'JWT' } as const;
const b64u = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
const MAX_TOKEN = 4096;

// The longest life (exp - iat) the agent accepts by default: the controller mints tokens of 60-300 s, one per
// connection; a longer one is a leaked or hand-made token. Agents may configure another cap (maxTokenLifetimeSeconds).
export const MAX_TOKEN_LIFETIME_SECONDS = 900;

// Signs claims with the controller's Ed25519 private key into a compact JWS string.
export function signToken(
  privateKey: KeyObject | string,
  c: { aud: string; scope: Scope[]; ttlSeconds: number; iss?: string; now?: number },
): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const iat = Math.floor((c.now ?? Date.now()) / 1000);
  const claims: TokenClaims = { aud: c.aud, scope: c.scope, iat, exp: iat + c.ttlSeconds, jti: randomUUID() };
  if (c.iss) claims.iss = c.iss;
  const input = `${b64u(JSON.stringify(HEADER))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(sign(null, Buffer.from(input), key))}`;
}

export interface VerifyOptions {
  keys: readonly KeyObject[]; // trusted controller public keys
  audience: string; // this agent's id
  scope: Scope; // the scope this endpoint requires
  now?: number; // ms since epoch
  leewaySeconds?: number;
  maxLifetimeSeconds?: number; // default MAX_TOKEN_LIFETIME_SECONDS
}

const unauthorized = (msg: string): XepaError => new XepaError('ERR_UNAUTHORIZED', `token refused: ${msg}`);

// Verifies a token: signature by a trusted key (alg fixed to EdDSA), time window, audience, scope.
// Throws ERR_UNAUTHORIZED (malformed, bad signature, expired) or ERR_FORBIDDEN (wrong audience or scope).
export function verifyToken(token: string, o: VerifyOptions): TokenClaims {
  if (token.length > MAX_TOKEN) throw unauthorized('too long');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw unauthorized('malformed');
  const [h, p, s] = parts as [string, string, string];
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    throw unauthorized('malformed');
  }
  const hd = header as Record<string, unknown> | null;
  if (!hd || typeof hd !== 'object' || hd.alg !== 'EdDSA' || Object.keys(hd).some((k) => k !== 'alg' && k !== 'typ')) {
    throw unauthorized('unsupported header (only alg EdDSA is accepted)');
  }
  const sig = Buffer.from(s, 'base64url');
  const data = Buffer.from(`${h}.${p}`);
  const good = o.keys.some((k) => k.asymmetricKeyType === 'ed25519' && verify(null, data, k, sig));
  if (!good) throw unauthorized('bad signature');
  const parsed = TokenClaims.safeParse(payload);
  if (!parsed.success) throw unauthorized('malformed claims');
  const claims = parsed.data;
  const now = Math.floor((o.now ?? Date.now()) / 1000);
  const leeway = o.leewaySeconds ?? 30;
  if (claims.exp + leeway <= now) throw unauthorized('expired');
  if (claims.nbf !== undefined && claims.nbf - leeway > now) throw unauthorized('not yet valid');
  if (claims.iat - leeway > now) throw unauthorized('issued in the future');
  // The verifier caps the life of a token, whatever its minter chose: from issue to expiry, and from now on
  // (the second follows from the first and the iat check above; kept so neither check depends on the other).
  const max = o.maxLifetimeSeconds ?? MAX_TOKEN_LIFETIME_SECONDS;
  if (claims.exp - claims.iat > max || claims.exp - now > max + leeway) {
    throw unauthorized(`it lives ${claims.exp - claims.iat} s, longer than this agent accepts (${max} s): mint a shorter one`);
  }
  if (claims.aud !== o.audience) {
    throw new XepaError('ERR_FORBIDDEN', `token refused: audience "${claims.aud}" is not this agent ("${o.audience}")`);
  }
  if (!claims.scope.includes(o.scope)) {
    throw new XepaError('ERR_FORBIDDEN', `token refused: scope "${o.scope}" required, token has ${claims.scope.join(', ')}`);
  }
  return claims;
}

// Reads a public key given as PEM or as base64 raw 32-byte Ed25519 key.
export function parsePublicKey(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) return createPublicKey(t);
  const raw = Buffer.from(t, 'base64');
  if (raw.length !== 32) throw new XepaError('ERR_CONFIG', 'an Ed25519 public key must be PEM or 32 bytes of base64');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}
