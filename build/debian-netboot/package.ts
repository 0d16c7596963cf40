// The Debian installer's netboot files from the Debian package debian-installer-12-netboot-amd64 (apt-get download
// into <cache>/debs, like the test ISO's kernel), unpacked once per version into <cache>/debian-netboot/pkg-VERSION.
// The package ships the netboot tree (linux, initrd.gz, pxelinux, GRUB EFI) but no SHA256SUMS and no mini.iso.
import * as childProcess from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { XepaError } from '../../agent/protocol/errors.js';
import { fetchDebianPackage } from '../test-iso/index.js';

export const NETBOOT_PACKAGE = 'debian-installer-12-netboot-amd64';
// Inside the package: the text-mode netboot tree (what images/netboot/ holds on the mirror).
export const NETBOOT_TREE = 'usr/lib/debian-installer/images/12/amd64/text';

// The unpacked package.
export interface NetbootPackage {
  version: string;
  deb: string;
  tree: string; // the netboot tree: debian-installer/amd64/{linux,initrd.gz,grub,pxelinux.0,...}, pxelinux.0, ...
  linux: string;
  initrd: string;
}

// Options (cache default $XEPA_CACHE or ~/.cache/xepa).
export interface NetbootPackageOptions {
  version: string; // the installer build, e.g. 20230607+deb12u15 (the package version)
  cacheDir?: string;
  log?: (line: string) => void;
  spawn?: typeof childProcess.spawn;
}

function dpkgExtract(spawn: typeof childProcess.spawn, deb: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('dpkg-deb', ['-x', deb, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new XepaError('ERR_CONFIG', `dpkg-deb -x ${deb} failed: ${err.trim()}`))));
  });
}

function paths(version: string, deb: string, dir: string): NetbootPackage {
  const tree = join(dir, NETBOOT_TREE);
  return { version, deb, tree, linux: join(tree, 'debian-installer/amd64/linux'), initrd: join(tree, 'debian-installer/amd64/initrd.gz') };
}

// The package's netboot tree, downloaded and unpacked first when missing.
export async function ensureNetbootPackage(o: NetbootPackageOptions): Promise<NetbootPackage> {
  if (!/^[0-9A-Za-z.+~-]+$/.test(o.version)) throw new XepaError('ERR_BAD_REQUEST', `not a package version: ${o.version}`);
  const cache = o.cacheDir ?? process.env.XEPA_CACHE ?? join(homedir(), '.cache', 'xepa');
  const root = join(cache, 'debian-netboot');
  const dir = join(root, `pkg-${o.version}`);
  const deb = await fetchDebianPackage(join(cache, 'debs'), NETBOOT_PACKAGE, o.version, { spawn: o.spawn, log: o.log });
  const have = paths(o.version, deb, dir);
  try {
    await fsp.access(have.linux);
    await fsp.access(have.initrd);
    return have;
  } catch {
    // not unpacked yet
  }
  await fsp.mkdir(root, { recursive: true });
  const tmp = await fsp.mkdtemp(join(root, '.tmp-pkg-'));
  try {
    o.log?.(`unpacking ${NETBOOT_PACKAGE}=${o.version}`);
    await dpkgExtract(o.spawn ?? childProcess.spawn, deb, tmp);
    await fsp.rename(tmp, dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  return have;
}
