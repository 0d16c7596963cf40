import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { bitString, bool, explicit, implicit, octetString, oid, seq, set, time, uint, utf8 } from './der.js';

// Object identifiers used below (RFC 5280, RFC 5758).
const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** What goes into a self-signed server certificate. */
export interface SelfSignedSpec {
  privateKey: KeyObject; // ECDSA P-256
  publicKey: KeyObject;
  commonName: string;
  altNames: string[]; // DNS names and IP addresses (v4 or v6)
  notBefore: Date;
  notAfter: Date;
  serial?: Buffer; // default: 16 random bytes, positive
}

const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  critical ? seq(oid(id), bool(true), octetString(value)) : seq(oid(id), octetString(value));

const name = (cn: string): Buffer => seq(set(seq(oid(OID.commonName), utf8(cn))));

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map((p) => Number(p)));
  // Expand an IPv6 address ("::1", "fe80::1", "::ffff:192.0.2.1") into its 16 bytes.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    ip = ip.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail = ''] = ip.split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return out;
}

function altName(n: string): Buffer {
  const plain = n.replace(/^\[|\]$/g, '');
  if (isIP(plain) !== 0) return implicit(7, ipBytes(plain)); // iPAddress
  return implicit(2, Buffer.from(n, 'ascii')); // dNSName (IA5String)
}

// Builds a self-signed X.509 v3 server certificate (ECDSA P-256 with SHA-256) and returns its DER bytes.
export function buildSelfSignedCertificate(spec: SelfSignedSpec): Buffer {
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  const serial = spec.serial ?? randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // RFC 5280: positive, at most 20 bytes
  const sigAlg = seq(oid(OID.ecdsaWithSha256)); // parameters absent for ECDSA (RFC 5758 §3.2)
  // SKI method 1 (RFC 5280 §4.2.1.2) approximated over the whole SPKI: any stable unique value is allowed.
  const ski = createHash('sha1').update(spki).digest();
  const extensions = seq(
    extension(OID.basicConstraints, true, seq()), // cA FALSE (default, so omitted)
    extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)), // digitalSignature
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
    extension(OID.subjectKeyIdentifier, false, octetString(ski)),
    ...(spec.altNames.length > 0 ? [extension(OID.subjectAltName, false, seq(...spec.altNames.map(altName)))] : []),
  );
  const tbs = seq(
    explicit(0, uint(2)), // version v3
    uint(serial),
    sigAlg,
    name(spec.commonName),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.commonName),
    spki,
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, { key: spec.privateKey, dsaEncoding: 'der' });
  return seq(tbs, sigAlg, bitString(signature));
}

// Wraps DER bytes in PEM armour with 64-column lines.
export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${b64.join('\n')}\n-----END ${label}-----\n`;
}
