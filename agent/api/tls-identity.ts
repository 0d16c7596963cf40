import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { XepaError, hasErrno, isENOENT } from '../protocol/index.js';
import { createPrivateFile } from './private-file.js';
import { buildSelfSignedCertificate, derToPem } from './x509.js';

/** The agent's TLS identity: PEM key and certificate, and the certificate's SHA-256 fingerprint. */
export interface TlsIdentity {
  key: string;
  cert: string;
  fingerprint: string; // "AB:CD:..." (Node's X509Certificate.fingerprint256 format)
}

/** Options for the first-start creation of the identity. */
export interface TlsIdentityOptions {
  commonName?: string; // default "xepa-agent"
  altNames?: string[]; // default: the host name, localhost, 127.0.0.1, ::1
  validDays?: number; // default 3650: controllers pin the fingerprint, dates are not what is trusted
  now?: () => number;
}

// File names inside the state directory.
export const TLS_KEY_FILE = 'tls-key.pem';
export const TLS_CERT_FILE = 'tls-cert.pem';

// The SHA-256 fingerprint of a PEM or DER certificate, in canonical form.
export function certificateFingerprint(cert: string | Buffer): string {
  return new X509Certificate(cert).fingerprint256;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isENOENT(err)) return undefined;
    throw err;
  }
}

function load(keyPem: string, certPem: string, dir: string): TlsIdentity {
  let cert: X509Certificate;
  try {
    const key = createPrivateKey(keyPem);
    cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(key)) throw new Error('the certificate does not belong to the key');
  } catch (err) {
    throw new XepaError(
      'ERR_CONFIG',
      `TLS identity in ${dir} is unusable (${(err as Error).message}): remove ${TLS_KEY_FILE} and ${TLS_CERT_FILE} to create a new one (controllers must then learn the new fingerprint)`,
      { cause: err },
    );
  }
  return { key: keyPem, cert: certPem, fingerprint: cert.fingerprint256 };
}

// Loads the agent's TLS key and certificate from stateDir, creating them (ECDSA P-256, self-signed, files
// mode 0600, created exclusively) at first start. Refuses with ERR_CONFIG when only one of the two files exists or they do not match.
export async function ensureTlsIdentity(stateDir: string, opts: TlsIdentityOptions = {}): Promise<TlsIdentity> {
  const keyPath = join(stateDir, TLS_KEY_FILE);
  const certPath = join(stateDir, TLS_CERT_FILE);
  const [keyPem, certPem] = await Promise.all([readIfExists(keyPath), readIfExists(certPath)]);
  if (keyPem !== undefined && certPem !== undefined) {
    const id = load(keyPem, certPem, stateDir);
    // Tighten permissions left loose by hand.
    if (((await stat(keyPath)).mode & 0o077) !== 0) await chmod(keyPath, 0o600);
    return id;
  }
  if (keyPem !== undefined || certPem !== undefined) {
    const missing = keyPem === undefined ? TLS_KEY_FILE : TLS_CERT_FILE;
    throw new XepaError('ERR_CONFIG', `TLS identity in ${stateDir} is incomplete: ${missing} is missing; remove the other file to create a new identity`);
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const now = opts.now?.() ?? Date.now();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const host = hostname();
  const der = buildSelfSignedCertificate({
    privateKey,
    publicKey,
    commonName: opts.commonName ?? 'xepa-agent',
    altNames: opts.altNames ?? [...new Set([host, 'localhost', '127.0.0.1', '::1'])],
    notBefore: new Date(now - 24 * 3600_000), // rescue systems' clocks are often off
    notAfter: new Date(now + (opts.validDays ?? 3650) * 24 * 3600_000),
  });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = derToPem(der);
  // Exclusive creation: a file or symlink that appeared at either name meanwhile fails the start (EEXIST)
  // instead of being written through.
  for (const [path, data] of [[keyPath, key], [certPath, cert]] as const) {
    await createPrivateFile(path, data).catch((err: unknown) => {
      if (!hasErrno(err, 'EEXIST')) throw err;
      throw new XepaError('ERR_CONFIG', `cannot create the TLS identity: ${path} appeared meanwhile (a file or symlink someone else placed?); remove it and start again`, { cause: err });
    });
  }
  return { key, cert, fingerprint: certificateFingerprint(der) };
}
