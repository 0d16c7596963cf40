// The real finish path on real filesystems, no boot: finishJob with the agent's own tools (sfdisk, mount with
// loop offsets, mtools) on GPT disk images whose root partition holds a Debian tree on ext4, xfs or btrfs (in a
// subvolume), the rescue network read by `ip` from a real network namespace. What finish wrote is read back
// from the disk with an independent mount, digests included.
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../../../build/host-deps.js';
import { createToolRunner } from '../../../agent/fidelity/index.js';
import { finishJob, type FinishableJob } from '../../../agent/finish/index.js';
import type { FileChange, FinishReport, Plan } from '../../../agent/protocol/index.js';
import { debianBase, debianIfupdown, type FakeRoot } from '../../unit/landing/fake-root.js';
import { makeLandingDisk, rescueNamespace, withRootMounted, type LandingDisk, type RescueNamespace } from '../../support/landing-disk.js';

const MAC = 'a0:36:9f:12:34:56';
const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const statusOf = (r: FinishReport) => Object.fromEntries(r.steps.map((s) => [s.step, s.status]));
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
let work = '';
let ns: RescueNamespace;
const trees: FakeRoot[] = [];

beforeAll(async () => {
  await ensureDebianPackages(['fdisk', 'mtools', 'e2fsprogs', 'xfsprogs', 'btrfs-progs', 'iproute2', 'mount']);
  work = await mkdtemp(join(tmpdir(), 'xepa-landing-'));
  ns = await rescueNamespace({ name: 'landing-int-rescue', mac: MAC, address: '203.0.113.10', prefix: 32, gateway: '203.0.113.1', ipv6: '2001:db8:10::10/64' });
});
afterAll(async () => {
  await ns?.dispose();
  for (const t of trees) await rm(t.root, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

// Finishes a done job on the image with the real tools; firmware UEFI with the removable-media policy (mtools
// on the image's ESP), so no NVRAM is involved.
const finish = async (disk: LandingDisk, params: Record<string, unknown> = {}): Promise<FinishReport> => {
  const dir = await mkdtemp(join(work, 'job-'));
  const plan = { disks: [{ path: disk.image, sizeBytes: 0 }], firmware: 'uefi' } as unknown as Plan;
  const job: FinishableJob = { id: 'job-landing', dir, plan, state: 'done', done: Promise.resolve(), stopForFinish: () => undefined };
  return finishJob(job, { job: 'job-landing', bootEntry: 'fallback', ...params }, {
    run: ns.runner(createToolRunner()),
    hostFirmware: async () => 'uefi',
    findDisks: async () => ({ paths: [disk.image], problems: [] }),
    reboot: () => undefined,
    rescueNetwork: async () => (await import('../../../agent/landing/index.js')).readRescueNetwork({
      run: ns.runner(createToolRunner()),
      readFile: async (p) => (p === '/etc/resolv.conf' ? 'nameserver 192.0.2.53\nsearch example.net\n' : undefined),
    }),
    landing: { procFilesystems: () => readFile('/proc/filesystems', 'utf8') },
  });
};
const changesOf = (r: FinishReport, step: 'network' | 'efi'): FileChange[] => (r.steps.find((s) => s.step === step)!.detail!.changes as FileChange[]);

describe('finish lands a Debian system on real filesystems', () => {
  it('ext4, ifupdown: the .link file and stanza for the server\'s MAC and /32, resolv.conf, and \\EFI\\BOOT\\BOOTX64.EFI from shim', async () => {
    const tree = await debianIfupdown();
    trees.push(tree);
    const disk = await makeLandingDisk({ image: join(work, 'ext4.img'), sizeMiB: 128, fs: 'ext4', tree: tree.root, efi: { '\\EFI\\debian\\shimx64.efi': 'MZ shim', '\\EFI\\debian\\grubx64.efi': 'MZ grub', '\\EFI\\debian\\grub.cfg': 'search.fs_uuid x root\n' } });
    const r = await finish(disk);
    expect(statusOf(r), JSON.stringify(r.steps, null, 1)).toEqual({ vm: 'ok', devices: 'ok', backup: 'warn', root: 'ok', network: 'ok', efi: 'ok', check: 'skipped', reboot: 'skipped' });
    expect(r.steps.find((s) => s.step === 'root')!.message).toBe(`Debian GNU/Linux 12 (bookworm) on ext4 (ext4) on ${disk.image}2, init systemd`);
    const net = changesOf(r, 'network');
    expect(net.map((c) => [c.path, c.action])).toEqual([['/etc/systemd/network/05-xepa-metal.link', 'created'], ['/etc/network/interfaces.d/xepa-metal', 'created'], ['/etc/resolv.conf', 'replaced']]);
    await withRootMounted(disk, async (root) => {
      const link = await readFile(join(root, 'etc/systemd/network/05-xepa-metal.link'), 'utf8');
      expect(link).toContain(`[Match]\nMACAddress=${MAC}\nType=ether\n\n[Link]\nName=metal0\n`);
      const stanza = await readFile(join(root, 'etc/network/interfaces.d/xepa-metal'), 'utf8');
      expect(stanza).toContain('iface metal0 inet static\n    address 203.0.113.10/32\n    up ip route add 203.0.113.1/32 dev metal0\n    up ip route add default via 203.0.113.1 dev metal0\n');
      expect(stanza).toContain('iface metal0 inet6 static\n    address 2001:db8:10::10/64\n    gateway fe80::1\n');
      expect(await readFile(join(root, 'etc/resolv.conf'), 'utf8')).toMatch(/search example.net\nnameserver 192.0.2.53\n$/);
      for (const c of net) expect(sha(await readFile(join(root, c.path)))).toBe(c.sha256);
    });
    const efi = changesOf(r, 'efi');
    expect(efi.map((c) => [c.path.split(':').pop(), c.action])).toEqual([['\\EFI\\BOOT\\BOOTX64.EFI', 'created'], ['\\EFI\\BOOT\\grubx64.efi', 'created'], ['\\EFI\\BOOT\\grub.cfg', 'created']]);
    expect(execFileSync('mtype', ['-i', `${disk.image}@@${disk.esp.offset}`, '::/EFI/BOOT/BOOTX64.EFI'], { env, encoding: 'utf8' })).toBe('MZ shim');
    expect(efi[0]!.sha256).toBe(sha('MZ shim'));

    const again = await finish(disk);
    expect(changesOf(again, 'network').map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(again.steps.find((s) => s.step === 'efi'), JSON.stringify(again.steps)).toMatchObject({ status: 'ok' });
    expect(changesOf(again, 'efi').map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });

  it('xfs, systemd-networkd with resolved: one .network file matching the MAC, resolv.conf left alone', async () => {
    const tree = await debianBase();
    trees.push(tree);
    for (const u of ['systemd-networkd.service', 'systemd-resolved.service']) {
      await tree.unit(u);
      await tree.enable(u);
    }
    await tree.link('etc/resolv.conf', '../run/systemd/resolve/stub-resolv.conf');
    await tree.file('etc/systemd/network/20-wired.network', '[Match]\nName=enp0s2\n\n[Network]\nDHCP=yes\n');
    const disk = await makeLandingDisk({ image: join(work, 'xfs.img'), sizeMiB: 340, fs: 'xfs', tree: tree.root, efi: { '\\EFI\\debian\\grubx64.efi': 'MZ grub' } });
    const r = await finish(disk, { bootEntry: 'none' });
    expect(statusOf(r)).toMatchObject({ root: 'ok', network: 'ok', efi: 'skipped' });
    expect(changesOf(r, 'network').map((c) => c.path)).toEqual(['/etc/systemd/network/05-xepa-metal.network']);
    await withRootMounted(disk, async (root) => {
      const unit = await readFile(join(root, 'etc/systemd/network/05-xepa-metal.network'), 'utf8');
      expect(unit).toContain(`[Match]\nMACAddress=${MAC}\n`);
      expect(unit).toContain('Address=203.0.113.10/32\nAddress=2001:db8:10::10/64\nDNS=192.0.2.53\nDomains=example.net\n');
      expect(unit).toContain('[Route]\nGateway=203.0.113.1\nGatewayOnLink=yes\n');
      expect(await readFile(join(root, 'etc/systemd/network/20-wired.network'), 'utf8')).toBe('[Match]\nName=enp0s2\n\n[Network]\nDHCP=yes\n');
    });
  });

  it('btrfs with the root in Debian\'s @rootfs subvolume, NetworkManager: a 0600 keyfile bound to the MAC', async () => {
    const tree = await debianIfupdown();
    trees.push(tree);
    await tree.unit('NetworkManager.service');
    await tree.enable('NetworkManager.service');
    const disk = await makeLandingDisk({ image: join(work, 'btrfs.img'), sizeMiB: 200, fs: 'btrfs', subvol: '@rootfs', tree: tree.root, efi: { '\\EFI\\debian\\grubx64.efi': 'MZ grub' } });
    const r = await finish(disk, { bootEntry: 'none' });
    expect(statusOf(r)).toMatchObject({ root: 'ok', network: 'ok' });
    expect(r.steps.find((s) => s.step === 'root')!.message).toMatch(/on btrfs \(btrfs\) on .*btrfs\.img2 subvolume @rootfs/);
    await withRootMounted(disk, async (root) => {
      const path = join(root, 'etc/NetworkManager/system-connections/xepa-metal.nmconnection');
      expect(await readFile(path, 'utf8')).toContain('[ethernet]\nmac-address=A0:36:9F:12:34:56\n');
      expect(execFileSync('stat', ['-c', '%a', path], { encoding: 'utf8' }).trim()).toBe('600');
    });
  });

  it('reports a disk with no Linux root and --network keep as a warning, writing nothing', async () => {
    const tree = await debianBase();
    trees.push(tree);
    await rm(join(tree.root, 'usr/lib/os-release'));
    const disk = await makeLandingDisk({ image: join(work, 'noroot.img'), sizeMiB: 128, fs: 'ext4', tree: tree.root });
    const failed = await finish(disk, { bootEntry: 'none' });
    expect(failed.steps.find((s) => s.step === 'root')).toMatchObject({ status: 'fail' });
    expect(failed.steps.find((s) => s.step === 'root')!.message).toMatch(/no installed Linux root on .*--network keep/);
    const kept = await finish(disk, { bootEntry: 'none', network: 'keep' });
    expect(statusOf(kept)).toMatchObject({ root: 'warn', network: 'skipped' });
    expect(kept.ok).toBe(true);
  });
});
