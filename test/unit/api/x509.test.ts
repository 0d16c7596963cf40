import { X509Certificate, createHash, generateKeyPairSync } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { normalizeFingerprint } from '../../../agent/protocol/index.js';
import { oid, tlv, uint, time } from '../../../agent/api/der.js';
import { buildSelfSignedCertificate, derToPem } from '../../../agent/api/x509.js';
import {
  TLS_CERT_FILE,
  TLS_KEY_FILE,
  certificateFingerprint,
  ensureTlsIdentity,
} from '../../../agent/api/tls-identity.js';
import { tempDirs } from './fixtures.js';
import { codeOf } from '../../support/error-code.js';

const dir = tempDirs();

describe('DER encoder', () => {
  it('encodes lengths of 128 bytes and more in long form', () => {
    expect(tlv(0x04, Buffer.alloc(127)).subarray(0, 2)).toEqual(Buffer.from([0x04, 0x7f]));
    expect(tlv(0x04, Buffer.alloc(128)).subarray(0, 3)).toEqual(Buffer.from([0x04, 0x81, 0x80]));
    expect(tlv(0x04, Buffer.alloc(300)).subarray(0, 4)).toEqual(Buffer.from([0x04, 0x82, 0x01, 0x2c]));
  });
  it('encodes OIDs with multi-byte arcs (ecdsa-with-SHA256)', () => {
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
  });
  it('keeps integers positive and minimal', () => {
    expect(uint(Buffer.from([0x00, 0x00, 0x80])).toString('hex')).toBe('02020080');
    expect(uint(2).toString('hex')).toBe('020102');
  });
  it('uses UTCTime before 2050 and GeneralizedTime from 2050', () => {
    expect(time(new Date('2049-12-31T23:59:59Z')).toString('latin1').slice(2)).toBe('491231235959Z');
    expect(time(new Date('2050-01-01T00:00:00Z')).toString('latin1').slice(2)).toBe('20500101000000Z');
  });
});

describe('self-signed certificate', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = buildSelfSignedCertificate({
    privateKey,
    publicKey,
    commonName: 'xepa-agent',
    altNames: ['agent.example', '127.0.0.1', '::1', '::ffff:192.0.2.1'],
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('2060-01-01T00:00:00Z'),
  });

  it('is parsed by Node as an X.509 certificate signed by its own key', () => {
    const cert = new X509Certificate(der);
    expect(cert.subject).toBe('CN=xepa-agent');
    expect(cert.issuer).toBe('CN=xepa-agent');
    expect(cert.verify(publicKey)).toBe(true);
    expect(cert.checkPrivateKey(privateKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe('DNS:agent.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:C000:201');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(new Date(cert.validTo).getUTCFullYear()).toBe(2060);
  });

  it('has a fingerprint that is the SHA-256 of its DER in "AB:CD:..." form', () => {
    const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
    expect(certificateFingerprint(der)).toBe(hex.match(/../g)?.join(':'));
    expect(certificateFingerprint(derToPem(der))).toBe(certificateFingerprint(der));
  });
});

describe('normalizeFingerprint', () => {
  const canonical = Array.from({ length: 32 }, (_, i) => (i * 7 + 10).toString(16).padStart(2, '0').toUpperCase()).join(':');
  it('accepts colons or none, any case, and a sha256: prefix', () => {
    expect(normalizeFingerprint(canonical.toLowerCase())).toBe(canonical);
    expect(normalizeFingerprint(canonical.replace(/:/g, ''))).toBe(canonical);
    expect(normalizeFingerprint(` sha256:${canonical.replace(/:/g, '').toLowerCase()} `)).toBe(canonical);
  });
  it('refuses anything that is not 32 bytes of hex with ERR_CONFIG', () => {
    for (const bad of ['', 'AB:CD', `${canonical}:00`, canonical.replace('A', 'G')]) {
      expect(codeOf(() => normalizeFingerprint(bad))).toBe('ERR_CONFIG');
    }
  });
});

describe('ensureTlsIdentity', () => {
  it('creates a P-256 key and certificate with mode 0600 at first start and reuses them later', async () => {
    const d = await dir();
    const first = await ensureTlsIdentity(d);
    expect((await stat(join(d, TLS_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(join(d, TLS_CERT_FILE))).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(first.cert);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(first.fingerprint).toBe(cert.fingerprint256);
    const second = await ensureTlsIdentity(d);
    expect(second).toEqual(first);
  });

  it('refuses with ERR_CONFIG when only one of the two files exists', async () => {
    const d = await dir();
    const id = await ensureTlsIdentity(d);
    const d2 = await dir();
    await writeFile(join(d2, TLS_CERT_FILE), id.cert);
    await expect(ensureTlsIdentity(d2)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });

  it('refuses with ERR_CONFIG when the certificate does not belong to the key', async () => {
    const a = await dir();
    const b = await dir();
    await ensureTlsIdentity(a);
    await ensureTlsIdentity(b);
    await writeFile(join(a, TLS_CERT_FILE), await readFile(join(b, TLS_CERT_FILE)));
    await expect(ensureTlsIdentity(a)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });

  it('serves a real TLS handshake whose peer certificate has the announced fingerprint', async () => {
    const id = await ensureTlsIdentity(await dir());
    const server = createServer({ key: id.key, cert: id.cert }, (s) => s.end('hi'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const seen = await new Promise<string | undefined>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
          resolve(s.getPeerX509Certificate()?.fingerprint256);
          s.destroy();
        });
        s.on('error', reject);
      });
      expect(seen).toBe(id.fingerprint);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
