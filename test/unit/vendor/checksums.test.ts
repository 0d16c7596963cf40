import { describe, expect, it } from 'vitest';
import { parseAssetDigest, parseSingleSum, parseSums } from '../../../controller/vendor/upstream/index.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(128);

describe('checksum files', () => {
  it('reads GNU sha256sum lines, text and binary mode, with paths', () => {
    const m = parseSums(`${A}  vmlinuz-amd64\n${B} *_out/initramfs-amd64.xz\n\n# comment\n`, 'sha256');
    expect(m.get('vmlinuz-amd64')).toBe(A);
    expect(m.get('initramfs-amd64.xz')).toBe(B);
  });

  it('reads BSD lines (FreeBSD CHECKSUM.SHA256) and ignores other algorithms', () => {
    const m = parseSums(`SHA256 (FreeBSD-14.1-RELEASE-amd64-disc1.iso) = ${A}\nSHA512 (FreeBSD-14.1-RELEASE-amd64-disc1.iso) = ${C}\n`, 'sha256');
    expect(m.get('FreeBSD-14.1-RELEASE-amd64-disc1.iso')).toBe(A);
    expect(parseSums(`SHA512 (x.iso) = ${C}\n`, 'sha512').get('x.iso')).toBe(C);
  });

  it("reads the SHA512 section of Flatcar's DIGESTS, not its MD5 or SHA1 lines", () => {
    const digests = `# MD5 HASH\n${'1'.repeat(32)}  flatcar_production_pxe.vmlinuz\n# SHA1 HASH\n${'2'.repeat(40)}  flatcar_production_pxe.vmlinuz\n# SHA512 HASH\n${C}  flatcar_production_pxe.vmlinuz\n`;
    expect(parseSingleSum(digests, 'sha512', 'flatcar_production_pxe.vmlinuz')).toBe(C);
    expect(parseSingleSum(digests, 'sha256', 'flatcar_production_pxe.vmlinuz')).toBeUndefined();
  });

  it('takes a lone digest from a per-file .sha256 with or without a name', () => {
    expect(parseSingleSum(`${A}\n`, 'sha256', 'x.tar.gz')).toBe(A);
    expect(parseSingleSum(`${A}  x.tar.gz\n`, 'sha256', 'x.tar.gz')).toBe(A);
  });

  it('reads API digests as sha256:HEX or bare hex, and refuses the wrong algorithm or length', () => {
    expect(parseAssetDigest(`sha256:${A.toUpperCase()}`, 'sha256')).toBe(A);
    expect(parseAssetDigest(A, 'sha256')).toBe(A);
    expect(parseAssetDigest(`sha512:${A}`, 'sha256')).toBeUndefined();
    expect(parseAssetDigest('abc', 'sha256')).toBeUndefined();
    expect(parseAssetDigest(42, 'sha256')).toBeUndefined();
  });
});
