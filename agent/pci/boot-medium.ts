import path from 'node:path';
import { RootedFs, type Procfs, type Sysfs } from '../host/index.js';

// Kernel command-line keys that name the device a rescue or live system booted from: root= (installed and
// most rescue systems), alpine_dev= (Alpine), img_dev= (Arch ISO), archisodevice=, live-media= (Debian live).
const KEYS = ['root', 'alpine_dev', 'img_dev', 'archisodevice', 'live-media', 'bootfrom'];
const BY_TAG: Record<string, string> = { UUID: 'by-uuid', LABEL: 'by-label', PARTUUID: 'by-partuuid', PARTLABEL: 'by-partlabel' };

// The device specs on a kernel command line for the boot-medium keys: "/dev/sdb1", "UUID=...", "LABEL=...".
export function bootDeviceSpecs(cmdline: string): string[] {
  const out: string[] = [];
  for (const word of cmdline.trim().split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq < 0 || !KEYS.includes(word.slice(0, eq))) continue;
    const value = word.slice(eq + 1).replace(/:[a-z0-9]+$/, ''); // alpine_dev=sdb1:vfat
    if (value !== '') out.push(value);
  }
  return out;
}

// The kernel block name a spec resolves to through devRoot (/dev): sdb1, nvme0n1p2; undefined when not a disk.
async function blockNameOf(dev: RootedFs, spec: string): Promise<string | undefined> {
  const tag = /^(UUID|LABEL|PARTUUID|PARTLABEL)=(.+)$/.exec(spec);
  const rel = tag ? `disk/${BY_TAG[tag[1]!]}/${tag[2]}` : spec.startsWith('/dev/') ? spec.slice(5) : /^[a-z]/.test(spec) ? spec : undefined;
  if (rel === undefined || /^(ram|nfs|zram|loop)/.test(rel)) return undefined;
  const real = await dev.realpath(rel);
  return real === undefined ? (tag ? undefined : path.basename(rel)) : path.basename(real);
}

// The whole disk holding a block device: a partition's parent directory in sysfs, else the device itself.
async function diskOf(sysfs: Sysfs, name: string): Promise<string> {
  if (!(await sysfs.exists(`class/block/${name}/partition`))) return name;
  const real = await sysfs.realpath(`class/block/${name}`);
  return real === undefined ? name : path.basename(path.dirname(real));
}

// The disks the rescue system booted from, per /proc/cmdline; [] for RAM/netboot systems.
export async function readBootDisks(sysfs: Sysfs, procfs: Procfs, devRoot = '/dev'): Promise<string[]> {
  const cmdline = (await procfs.readText('cmdline')) ?? '';
  const dev = new RootedFs(devRoot);
  const out = new Set<string>();
  for (const spec of bootDeviceSpecs(cmdline)) {
    const name = await blockNameOf(dev, spec);
    if (name !== undefined && (await sysfs.exists(`class/block/${name}`))) out.add(await diskOf(sysfs, name));
  }
  return [...out].sort();
}
