// Disk images that look like what an installer leaves, for the landing tests: a GPT disk with an ESP (FAT, made
// with mtools, loaders under \EFI\<vendor>) and a Linux root partition holding a given tree, on ext4, xfs or
// btrfs (btrfs: in a subvolume, as Debian's installer puts it). Also the rescue system's network as a real
// network namespace that `ip` reads. Needs root (mount, ip netns) and e2fsprogs/xfsprogs/btrfs-progs/mtools.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ToolRunner } from '../../agent/fidelity/index.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

// Where the partitions are in a landing disk image.
export interface LandingDisk {
  image: string;
  esp: { offset: number; size: number };
  root: { offset: number; size: number; fs: 'ext4' | 'xfs' | 'btrfs'; subvol?: string };
}

// Builds the image: GPT, a 32 MiB ESP with `efi` files (UEFI path -> content), the root partition with `tree`.
export async function makeLandingDisk(o: { image: string; sizeMiB: number; fs: LandingDisk['root']['fs']; tree: string; efi?: Record<string, string>; subvol?: string; uuid?: string }): Promise<LandingDisk> {
  await writeFile(o.image, '');
  await truncate(o.image, o.sizeMiB * MiB);
  const sf = run('sfdisk', ['-q', o.image]);
  sf.child.stdin!.end('label: gpt\nsize=32MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\ntype=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n');
  await sf;
  const esp = { offset: MiB, size: 32 * MiB };
  const rootOffset = 33 * MiB;
  const root = { offset: rootOffset, size: (o.sizeMiB - 34) * MiB, fs: o.fs, ...(o.subvol ? { subvol: o.subvol } : {}) };
  const img = `${o.image}@@${esp.offset}`;
  await run('mformat', ['-i', img, '-T', String(esp.size / 512), '-v', 'ESP', '::'], { env });
  const work = await mkdtemp(join(tmpdir(), 'xepa-landing-disk-'));
  try {
    for (const [path, content] of Object.entries(o.efi ?? {})) {
      const parts = path.split('\\').filter(Boolean);
      for (let i = 1; i < parts.length; i++) await run('mmd', ['-i', img, '-D', 's', `::/${parts.slice(0, i).join('/')}`], { env }).catch(() => undefined);
      await writeFile(join(work, 'f'), content);
      await run('mcopy', ['-i', img, '-o', join(work, 'f'), `::/${parts.join('/')}`], { env });
    }
    const loop = (await run('losetup', ['--find', '--show', '--offset', String(root.offset), '--sizelimit', String(root.size), o.image])).stdout.trim();
    try {
      if (o.fs === 'ext4') await run('mkfs.ext4', ['-q', '-F', ...(o.uuid ? ['-U', o.uuid] : []), loop]);
      if (o.fs === 'xfs') await run('mkfs.xfs', ['-q', '-f', loop]);
      if (o.fs === 'btrfs') await run('mkfs.btrfs', ['-q', '-f', loop]);
      const m = join(work, 'm');
      await run('mkdir', ['-p', m]);
      await run('mount', [loop, m]);
      try {
        let dest = m;
        if (o.subvol) {
          await run('btrfs', ['subvolume', 'create', join(m, o.subvol)]);
          dest = join(m, o.subvol);
        }
        await run('cp', ['-a', `${o.tree}/.`, dest]);
      } finally {
        await run('umount', [m]);
      }
    } finally {
      await run('losetup', ['-d', loop]);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { image: o.image, esp, root };
}

// Runs fn with the image's root partition mounted read-only (to read what finish wrote).
export async function withRootMounted<T>(d: LandingDisk, fn: (root: string) => Promise<T>): Promise<T> {
  const m = await mkdtemp(join(tmpdir(), 'xepa-landing-check-'));
  await run('mount', ['-t', d.root.fs, '-o', `ro,loop,offset=${d.root.offset},sizelimit=${d.root.size}`, d.image, m]);
  try {
    return await fn(d.root.subvol ? join(m, d.root.subvol) : m);
  } finally {
    await run('umount', [m]);
    await rm(m, { recursive: true, force: true });
  }
}

// A network namespace playing the rescue system's network: a veth "eth0" with the server's MAC, its address and
// on-link gateway, IPv6 with fe80::1 (nothing behind it: only `ip` reads it).
export interface RescueNamespace {
  name: string;
  mac: string;
  address: string;
  gateway: string;
  ipv6: string;
  // `ip` runs inside the namespace; every other tool goes to next
  runner(next: ToolRunner): ToolRunner;
  dispose(): Promise<void>;
}

// Creates the rescue network namespace (its name starts with the helper's prefix).
export async function rescueNamespace(o: { name: string; mac: string; address: string; prefix: number; gateway: string; ipv6: string }): Promise<RescueNamespace> {
  const ip = (...a: string[]) => run('ip', a);
  await ip('netns', 'del', o.name).catch(() => undefined);
  await ip('netns', 'add', o.name);
  const n = ['-n', o.name];
  await ip(...n, 'link', 'add', 'eth0', 'address', o.mac, 'type', 'veth', 'peer', 'name', 'provider0');
  for (const l of ['lo', 'eth0', 'provider0']) await ip(...n, 'link', 'set', l, 'up');
  await ip(...n, 'addr', 'add', `${o.address}/${o.prefix}`, 'dev', 'eth0');
  await ip(...n, 'addr', 'add', o.ipv6, 'dev', 'eth0', 'nodad');
  await ip(...n, 'route', 'add', o.gateway, 'dev', 'eth0');
  await ip(...n, 'route', 'add', 'default', 'via', o.gateway, 'dev', 'eth0', 'onlink');
  await ip(...n, '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth0');
  return {
    name: o.name,
    mac: o.mac,
    address: o.address,
    gateway: o.gateway,
    ipv6: o.ipv6,
    runner: (next) => (cmd, args, opts) => (cmd === 'ip' ? next('ip', ['-n', o.name, ...args], opts) : next(cmd, args, opts)),
    dispose: async () => void (await ip('netns', 'del', o.name).catch(() => undefined)),
  };
}
