import { mkdir, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Procfs } from '../../../agent/host/procfs.js';
import { Sysfs } from '../../../agent/host/sysfs.js';

// Builds fake /sys, /proc and /dev trees with the real shape (directories under devices/, relative symlinks
// for block/, class/net/, bus/pci/devices/, driver, iommu_group, holders) from a compact description.
// Shared by the host, pci and vfio tests: nothing here writes outside a fresh temp directory.

type Content = string | Buffer;

// A PCI function: its directory is devices/pci<domain>:<bus>/[<parent>/]<bdf> (see pciDir).
export interface FakePciDevice {
  bdf: string;
  parent?: string; // BDF of the upstream bridge or root port: nests the directory below it
  vendor?: string; // 0x8086
  device?: string;
  class?: string; // 0x010802
  driver?: string; // bound driver: driver -> bus/pci/drivers/<driver>, and drivers/<driver>/<bdf> back
  iommuGroup?: number;
  attrs?: Record<string, Content>; // extra attributes in the device directory
}

// A partition: a subdirectory of its disk with `partition`, `dev`, `size` and holders/.
export interface FakePartition {
  name: string;
  dev: string;
  number?: number;
  sizeSectors?: number;
  holders?: string[];
}

// A block device: /sys/block/<name> links to `at`; `device` (when given) is where at/device links.
export interface FakeBlockDevice {
  name: string;
  dev: string; // major:minor
  at?: string; // canonical directory; default devices/virtual/block/<name>
  device?: string; // directory the `device` symlink points to
  sizeSectors?: number;
  ro?: boolean;
  removable?: boolean;
  attrs?: Record<string, Content>; // relative to the disk directory: serial, wwid, loop/backing_file, dm/name
  deviceAttrs?: Record<string, Content>; // relative to the device directory: serial, model, vpd_pg80, wwid
  holders?: string[];
  partitions?: FakePartition[];
}

// A network interface: class/net/<name> links to <device>/net/<name>, or devices/virtual/net/<name>.
export interface FakeNetDevice {
  name: string;
  device?: string; // the parent device directory (a PCI function, or virtioN below one)
  driver?: string; // driver of `device`; its bus is pci for a BDF directory, virtio for virtioN
  mac?: string;
  operstate?: string; // up, down, unknown
  carrier?: string; // omitted: absent (a real interface that is down answers EINVAL instead)
  speed?: string;
}

// The whole fake host.
export interface FakeHost {
  pci?: FakePciDevice[];
  block?: FakeBlockDevice[];
  net?: FakeNetDevice[];
  efi?: { secureBoot?: boolean }; // present: /sys/firmware/efi exists (UEFI boot)
  sys?: Record<string, Content>; // any other sysfs file, relative to the sysfs root
  proc?: Record<string, string>; // procfs files: cpuinfo, meminfo, mounts, swaps, net/route, self/mountinfo ...
  dev?: string[]; // files under the dev root: kvm, vfio/vfio ...
}

// A built fake host: the three roots, Sysfs/Procfs on them, and cleanup.
export interface FakeHostTree {
  root: string;
  sysRoot: string;
  procRoot: string;
  devRoot: string;
  sysfs: Sysfs;
  procfs: Procfs;
  cleanup(): Promise<void>;
}

const SECURE_BOOT_VAR = 'SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';

// The canonical directory of a PCI function, below its parent's when it has one; `bdf` may also be a chain
// `0000:00:01.0/0000:01:00.0` (root port, then endpoint) to nest it.
export function pciDir(bdf: string, parentDir?: string): string {
  return `${parentDir ?? `devices/pci${bdf.slice(0, 7)}`}/${bdf}`;
}

async function put(file: string, content: Content): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

// A relative symlink at `link` pointing to `target` (both absolute), as sysfs writes them. Describing the same
// link twice (a NIC's driver and its PCI function's driver) is fine; two different targets are a test bug.
async function link(linkPath: string, target: string): Promise<void> {
  await mkdir(path.dirname(linkPath), { recursive: true });
  const rel = path.relative(path.dirname(linkPath), target);
  const existing = await readlink(linkPath).catch(() => undefined);
  if (existing === rel) return;
  await symlink(rel, linkPath);
}

async function buildPci(sys: string, devices: FakePciDevice[]): Promise<void> {
  const dirs = new Map<string, string>();
  const dirOf = (d: FakePciDevice): string => {
    const known = dirs.get(d.bdf);
    if (known) return known;
    const parent = d.parent === undefined ? undefined : devices.find((p) => p.bdf === d.parent);
    const dir = pciDir(d.bdf, parent ? dirOf(parent) : undefined);
    dirs.set(d.bdf, dir);
    return dir;
  };
  await put(`${sys}/bus/pci/drivers_probe`, '');
  await put(`${sys}/bus/pci/rescan`, '');
  for (const d of devices) {
    const dir = `${sys}/${dirOf(d)}`;
    await put(`${dir}/vendor`, `${d.vendor ?? '0x8086'}\n`);
    await put(`${dir}/device`, `${d.device ?? '0x0000'}\n`);
    await put(`${dir}/class`, `${d.class ?? '0x000000'}\n`);
    await put(`${dir}/driver_override`, '(null)\n');
    for (const [k, v] of Object.entries(d.attrs ?? {})) await put(`${dir}/${k}`, v);
    await link(`${sys}/bus/pci/devices/${d.bdf}`, dir);
    if (d.driver !== undefined) {
      const drv = `${sys}/bus/pci/drivers/${d.driver}`;
      for (const f of ['bind', 'unbind', 'new_id', 'remove_id']) await put(`${drv}/${f}`, '');
      await link(`${dir}/driver`, drv);
      await link(`${drv}/${d.bdf}`, dir);
    }
    if (d.iommuGroup !== undefined) {
      const group = `${sys}/kernel/iommu_groups/${d.iommuGroup}`;
      await link(`${dir}/iommu_group`, group);
      await link(`${group}/devices/${d.bdf}`, dir);
    }
  }
}

async function buildBlock(sys: string, disks: FakeBlockDevice[]): Promise<void> {
  for (const d of disks) {
    const dir = `${sys}/${d.at ?? `devices/virtual/block/${d.name}`}`;
    await put(`${dir}/dev`, `${d.dev}\n`);
    await put(`${dir}/size`, `${d.sizeSectors ?? 0}\n`);
    await put(`${dir}/ro`, d.ro ? '1\n' : '0\n');
    await put(`${dir}/removable`, d.removable ? '1\n' : '0\n');
    await mkdir(`${dir}/slaves`, { recursive: true });
    await mkdir(`${dir}/holders`, { recursive: true });
    for (const h of d.holders ?? []) await link(`${dir}/holders/${h}`, `${sys}/devices/virtual/block/${h}`);
    for (const [k, v] of Object.entries(d.attrs ?? {})) await put(`${dir}/${k}`, v);
    if (d.device !== undefined) {
      await mkdir(`${sys}/${d.device}`, { recursive: true });
      await link(`${dir}/device`, `${sys}/${d.device}`);
      for (const [k, v] of Object.entries(d.deviceAttrs ?? {})) await put(`${sys}/${d.device}/${k}`, v);
    }
    for (const [i, p] of (d.partitions ?? []).entries()) {
      const pdir = `${dir}/${p.name}`;
      await put(`${pdir}/partition`, `${p.number ?? i + 1}\n`);
      await put(`${pdir}/dev`, `${p.dev}\n`);
      await put(`${pdir}/size`, `${p.sizeSectors ?? 0}\n`);
      await mkdir(`${pdir}/holders`, { recursive: true });
      for (const h of p.holders ?? []) await link(`${pdir}/holders/${h}`, `${sys}/devices/virtual/block/${h}`);
      await link(`${sys}/class/block/${p.name}`, pdir);
      await link(`${sys}/dev/block/${p.dev}`, pdir);
    }
    await link(`${sys}/block/${d.name}`, dir);
    await link(`${sys}/class/block/${d.name}`, dir);
    await link(`${sys}/dev/block/${d.dev}`, dir);
  }
}

async function buildNet(sys: string, nics: FakeNetDevice[]): Promise<void> {
  for (const n of nics) {
    const dir = `${sys}/${n.device === undefined ? 'devices/virtual/net' : `${n.device}/net`}/${n.name}`;
    const attrs: Record<string, string | undefined> = {
      address: n.mac,
      operstate: n.operstate ?? 'up',
      carrier: n.carrier,
      speed: n.speed,
      type: '1',
    };
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) await put(`${dir}/${k}`, `${v}\n`);
    await link(`${sys}/class/net/${n.name}`, dir);
    if (n.device === undefined) continue;
    await link(`${dir}/device`, `${sys}/${n.device}`);
    if (n.driver !== undefined) {
      const last = path.basename(n.device);
      const bus = /^[0-9a-f]{4}:/.test(last) ? 'pci' : /^virtio\d+$/.test(last) ? 'virtio' : 'platform';
      await mkdir(`${sys}/bus/${bus}/drivers/${n.driver}`, { recursive: true });
      await link(`${sys}/${n.device}/driver`, `${sys}/bus/${bus}/drivers/${n.driver}`);
    }
  }
}

// Builds the tree in a fresh temp directory; call cleanup() when done.
export async function buildFakeHost(desc: FakeHost): Promise<FakeHostTree> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'xepa-fake-host-'));
  const sysRoot = `${root}/sys`;
  const procRoot = `${root}/proc`;
  const devRoot = `${root}/dev`;
  for (const d of [sysRoot, procRoot, devRoot, `${sysRoot}/block`, `${sysRoot}/class/net`, `${sysRoot}/bus/pci/devices`]) {
    await mkdir(d, { recursive: true });
  }
  await buildPci(sysRoot, desc.pci ?? []);
  await buildBlock(sysRoot, desc.block ?? []);
  await buildNet(sysRoot, desc.net ?? []);
  if (desc.efi) {
    await mkdir(`${sysRoot}/firmware/efi/efivars`, { recursive: true });
    if (desc.efi.secureBoot !== undefined) {
      const value = Buffer.from([0x06, 0x00, 0x00, 0x00, desc.efi.secureBoot ? 1 : 0]);
      await put(`${sysRoot}/firmware/efi/efivars/${SECURE_BOOT_VAR}`, value);
    }
  }
  for (const [k, v] of Object.entries(desc.sys ?? {})) await put(`${sysRoot}/${k}`, v);
  for (const [k, v] of Object.entries(desc.proc ?? {})) await put(`${procRoot}/${k}`, v);
  for (const f of desc.dev ?? []) await put(`${devRoot}/${f}`, '');
  return {
    root,
    sysRoot,
    procRoot,
    devRoot,
    sysfs: new Sysfs(sysRoot),
    procfs: new Procfs(procRoot),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export * from './fake-devices.js';
export * from './fake-proc.js';
