import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { compareTarPaths, crc32, gzipDeterministic, writeTar, type TarEntry } from '../../../alpine/index.js';

const dir = mkdtempSync(join(tmpdir(), 'xepa-tar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entries: TarEntry[] = [
  { type: 'file', path: 'etc/init.d/svc', mode: 0o755, data: '#!/bin/sh\necho hi\n' },
  { type: 'dir', path: 'etc', mode: 0o755 },
  { type: 'dir', path: 'etc/init.d', mode: 0o755 },
  { type: 'symlink', path: 'etc/runlevels/default/svc', target: '/etc/init.d/svc' },
  { type: 'dir', path: 'etc/runlevels', mode: 0o755 },
  { type: 'dir', path: 'etc/runlevels/default', mode: 0o755 },
  { type: 'file', path: 'etc/secret', mode: 0o600, data: Buffer.alloc(1500, 7) },
  { type: 'file', path: `usr/${'d'.repeat(90)}/${'f'.repeat(60)}.txt`, mode: 0o644, data: 'long path' },
  { type: 'dir', path: 'usr', mode: 0o755 },
  { type: 'dir', path: `usr/${'d'.repeat(90)}`, mode: 0o755 },
];

describe('the deterministic tar writer', () => {
  it('writes an archive GNU tar lists with root ownership, the given modes and the symlink target', () => {
    const file = join(dir, 'a.tar');
    writeFileSync(file, writeTar(entries));
    const listing = execFileSync('tar', ['-tvf', file, '--numeric-owner'], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 +\d+ 2000-01-01 \d\d:\d\d etc\/init.d\/svc$/m);
    expect(listing).toMatch(/^-rw------- 0\/0 +1500 .* etc\/secret$/m);
    expect(listing).toMatch(/^lrwxrwxrwx 0\/0 .* etc\/runlevels\/default\/svc -> \/etc\/init.d\/svc$/m);
    expect(listing).toContain(`usr/${'d'.repeat(90)}/${'f'.repeat(60)}.txt`);
  });

  it('extracts with GNU tar and with busybox tar (what Alpine\'s initramfs uses) to the same files', () => {
    const archive = join(dir, 'b.tar');
    writeFileSync(archive, writeTar(entries));
    for (const [name, cmd, args] of [
      ['gnu', 'tar', ['-xpf', archive, '-C']],
      ['busybox', 'busybox', ['tar', '-xpf', archive, '-C']],
    ] as const) {
      const out = join(dir, `x-${name}`);
      execFileSync('mkdir', ['-p', out]);
      execFileSync(cmd, [...args, out]);
      expect(readFileSync(join(out, 'etc/init.d/svc'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
      expect(statSync(join(out, 'etc/init.d/svc')).mode & 0o777).toBe(0o755);
      expect(statSync(join(out, 'etc/secret')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(out, 'etc/secret'))).toEqual(Buffer.alloc(1500, 7));
      expect(readlinkSync(join(out, 'etc/runlevels/default/svc'))).toBe('/etc/init.d/svc');
    }
  });

  it('gives the same bytes whatever order the entries come in', () => {
    const a = writeTar(entries);
    const b = writeTar([...entries].reverse());
    expect(a.equals(b)).toBe(true);
  });

  it('puts parents before their children', () => {
    const names = ['etc/x', 'etc', 'etc-a', 'etc/a/b', 'etc/a'].sort(compareTarPaths);
    expect(names).toEqual(['etc', 'etc/a', 'etc/a/b', 'etc/x', 'etc-a']);
  });

  it('refuses absolute paths, ".." and duplicates', () => {
    expect(() => writeTar([{ type: 'dir', path: '/etc', mode: 0o755 }])).toThrow(/relative path/);
    expect(() => writeTar([{ type: 'dir', path: 'etc/../x', mode: 0o755 }])).toThrow(/relative path/);
    expect(() => writeTar([{ type: 'dir', path: 'etc', mode: 0o755 }, { type: 'dir', path: 'etc', mode: 0o700 }])).toThrow(/twice/);
  });
});

describe('the deterministic gzip', () => {
  it('writes mtime 0 and the Unix OS byte, and gunzips to the input', () => {
    const data = writeTar(entries);
    const gz = gzipDeterministic(data);
    expect(gz.readUInt32LE(4)).toBe(0);
    expect(gz[9]).toBe(3);
    expect(gunzipSync(gz).equals(data)).toBe(true);
  });

  it('computes the standard CRC-32 ("123456789" -> cbf43926)', () => {
    expect(crc32(Buffer.from('123456789')).toString(16)).toBe('cbf43926');
  });
});
