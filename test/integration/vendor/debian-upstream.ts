// Debian's archive as the tests serve it on loopback: the real InRelease and SHA256SUMS (apt's cached snapshot,
// build/debian-netboot) and the real netboot kernel and initrd (the package debian-installer-12-netboot-amd64),
// at the paths the mirror has them. Tests tamper with copies in `up.files`; nothing here reaches the internet
// once the cache holds the snapshot and the package.
import { readFileSync } from 'node:fs';
import { ensureDebianUpstream, ensureNetbootPackage, type NetbootPackage } from '../../../build/debian-netboot/index.js';
import { currentInstallerBuild } from '../../../controller/vendor/upstream/debian-release.js';
import { parseRelease } from '../../../controller/vendor/upstream/inrelease.js';
import type { FakeUpstream } from './fake-upstream.js';

// The real files, read once.
export interface DebianMedia {
  build: string; // the installer build `current` names
  inRelease: Buffer;
  sha256sums: Buffer;
  linux: Buffer;
  initrd: Buffer;
  pkg: NetbootPackage;
}

// Paths on the mirror, below the base `/debian`.
export function debianPaths(build: string): { inRelease: string; sums: string; linux: string; initrd: string } {
  const images = `/debian/dists/bookworm/main/installer-amd64/${build}/images`;
  return {
    inRelease: '/debian/dists/bookworm/InRelease',
    sums: `${images}/SHA256SUMS`,
    linux: `${images}/netboot/debian-installer/amd64/linux`,
    initrd: `${images}/netboot/debian-installer/amd64/initrd.gz`,
  };
}

// The snapshot and the package (fetched through apt once, then cached).
export async function loadDebianMedia(log?: (l: string) => void): Promise<DebianMedia> {
  const up = await ensureDebianUpstream(log ? { log } : {});
  const inRelease = readFileSync(up.inRelease);
  // the lookup only: the module under test verifies the signature itself
  const { build } = currentInstallerBuild({ ...parseRelease(inRelease.toString('utf8')), signer: '' }, 'main/installer-amd64');
  const pkg = await ensureNetbootPackage({ version: build, ...(log ? { log } : {}) });
  return { build, inRelease, sha256sums: readFileSync(up.sha256sums), linux: readFileSync(pkg.linux), initrd: readFileSync(pkg.initrd), pkg };
}

// Serves the media (or the given replacements) on the fake upstream.
export function serveDebian(up: FakeUpstream, m: DebianMedia, replace: Partial<Record<'inRelease' | 'sums' | 'linux' | 'initrd', Buffer>> = {}): void {
  const p = debianPaths(m.build);
  up.files.set(p.inRelease, replace.inRelease ?? m.inRelease);
  up.files.set(p.sums, replace.sums ?? m.sha256sums);
  up.files.set(p.linux, replace.linux ?? m.linux);
  up.files.set(p.initrd, replace.initrd ?? m.initrd);
}

// A copy of `buf` with the first occurrence of `from` replaced by `to` (same length: sizes still match).
export function tamper(buf: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('tamper keeps the length');
  const i = buf.indexOf(from);
  if (i < 0) throw new Error(`tamper: ${from} not found`);
  const out = Buffer.from(buf);
  out.write(to, i, 'latin1');
  return out;
}

// The digit after `d` in hex, so a digest changes by one character.
export function otherHexDigit(d: string): string {
  return '0123456789abcdef'[('0123456789abcdef'.indexOf(d) + 1) % 16]!;
}
