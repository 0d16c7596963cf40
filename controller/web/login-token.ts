import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { XepaError } from '../../agent/protocol/index.js';

// What a web session may do: `control` drives the guest (keyboard, mouse, power, media); `view` only watches.
export const WEB_ROLES = ['control', 'view'] as const;
export type WebRole = (typeof WEB_ROLES)[number];

// Default lifetime of a login link: long enough to paste it into a browser, short enough to be useless later.
export const LOGIN_TOKEN_TTL_SECONDS = 300;
// The longest life the console accepts (exp - iat, and from now on), whoever minted the link: the CLI's
// `xepa serve login --ttl` allows at most this much.
export const LOGIN_TOKEN_MAX_LIFETIME_SECONDS = 3600;

// Marks a web login token, so it can never be mistaken for anything else the controller key signs.
const TYP = 'xepa-web-login';
const MAX_TOKEN = 1024;
const CLOCK_LEEWAY_SECONDS = 30; // links are usually minted on the same machine; allow a little skew anyway

const LoginClaims = z
  .object({
    typ: z.literal(TYP),
    aud: z.string().min(1).max(300), // the web console's origin, e.g. https://console.example:8443
    role: z.enum(WEB_ROLES),
    iat: z.number().int(),
    exp: z.number().int(),
    jti: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  })
  .strict();
/** The verified content of a login token. */
export type LoginClaims = z.infer<typeof LoginClaims>;

/** What a login token grants and where. */
export interface MintLoginOptions {
  origin: string; // the console's origin the token is good for
  role: WebRole;
  ttlSeconds?: number;
  now?: number; // ms since epoch
}

// Mints a login token: `<claims>.<Ed25519 signature>`, both base64url. Two parts, so the agent (which wants a
// three-part JWS) refuses it, and web logins refuse agent tokens: neither can stand in for the other.
export function mintLoginToken(privateKey: KeyObject, o: MintLoginOptions): string {
  const iat = Math.floor((o.now ?? Date.now()) / 1000);
  const exp = iat + (o.ttlSeconds ?? LOGIN_TOKEN_TTL_SECONDS);
  const claims: LoginClaims = { typ: TYP, aud: o.origin, role: o.role, iat, exp, jti: randomBytes(18).toString('base64url') };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${sign(null, Buffer.from(body), privateKey).toString('base64url')}`;
}

const refused = (why: string): XepaError => new XepaError('ERR_UNAUTHORIZED', `login link refused: ${why}`);

/** What a login token is checked against. */
export interface VerifyLoginOptions {
  publicKey: KeyObject;
  origin: string;
  now?: number; // ms since epoch
  maxLifetimeSeconds?: number; // default LOGIN_TOKEN_MAX_LIFETIME_SECONDS
}

// Checks a login token's signature (by the controller key), audience (this console's origin), expiry and
// lifetime. Throws ERR_UNAUTHORIZED; whether it was already used is the caller's business (see LoginExchange).
export function verifyLoginToken(token: string, o: VerifyLoginOptions): LoginClaims {
  if (token.length > MAX_TOKEN) throw refused('too long');
  const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
  if (!m) throw refused('malformed');
  const [, body, sig] = m as unknown as [string, string, string];
  if (!verify(null, Buffer.from(body), o.publicKey, Buffer.from(sig, 'base64url'))) throw refused('bad signature');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw refused('malformed');
  }
  const parsed = LoginClaims.safeParse(raw);
  if (!parsed.success) throw refused('malformed claims');
  const c = parsed.data;
  if (c.aud !== o.origin) throw refused(`it was made for ${c.aud}, this console is ${o.origin}`);
  const now = Math.floor((o.now ?? Date.now()) / 1000);
  if (c.exp <= now) throw refused('expired (ask for a new one)');
  if (c.iat > now + CLOCK_LEEWAY_SECONDS) throw refused('issued in the future');
  const max = o.maxLifetimeSeconds ?? LOGIN_TOKEN_MAX_LIFETIME_SECONDS;
  if (c.exp - c.iat > max || c.exp - now > max + CLOCK_LEEWAY_SECONDS) {
    throw refused(`it lives ${c.exp - c.iat} s, longer than this console accepts (${max} s): ask for a shorter one`);
  }
  return c;
}
