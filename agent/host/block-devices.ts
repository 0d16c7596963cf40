import type { DiskInfo } from '../protocol/inventory.js';
import { type BlockNode, type BlockUsage, indexBlockUsage, parseMountinfo, parseMounts, parseSwaps, usageReasons } from './block-usage.js';
import { readDiskIdentity } from './disk-identity.js';
import type { Procfs } from './procfs.js';
import type { Sysfs } from './sysfs.js';

// Block devices that are never install targets: RAM disks, zram, optical drives; md and dm appear only
// as holders of the disks below them.
const SKIP = [/^ram\d+$/, /^zram\d+$/, /^sr\d+$/, /^md\d+$/, /^md_/, /^dm-\d+$/];

// Device-mapper names (`vg-root`) to kernel names (`dm-0`), for mounts listed as /dev/mapper/...
async function readDmNames(sysfs: Sysfs, names: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const n of names.filter((x) => /^dm-\d+$/.test(x))) {
    const dmName = await sysfs.readText(`block/${n}/dm/name`);
    if (dmName) out.set(dmName, n);
  }
  return out;
}

// What the running system holds right now: mounts (with major:minor when mountinfo exists) and swap.
export async function readBlockUsage(sysfs: Sysfs, procfs: Procfs, blockNames: string[]): Promise<BlockUsage> {
  const [mounts, mountinfo, swaps, dmNames] = await Promise.all([
    procfs.mounts(),
    procfs.mountinfo(),
    procfs.swaps(),
    readDmNames(sysfs, blockNames),
  ]);
  const entries = [...parseMounts(mounts), ...(mountinfo === undefined ? [] : parseMountinfo(mountinfo))];
  return indexBlockUsage(entries, parseSwaps(swaps), dmNames);
}

async function readNode(sysfs: Sysfs, dir: string, name: string): Promise<BlockNode> {
  const [dev, holders] = await Promise.all([sysfs.readText(`${dir}/dev`), sysfs.list(`${dir}/holders`)]);
  return dev === undefined ? { name, holders } : { name, dev, holders };
}

// Partitions are subdirectories of the disk (named after it) holding a `partition` file.
async function readPartitions(sysfs: Sysfs, name: string): Promise<BlockNode[]> {
  const entries = (await sysfs.list(`block/${name}`)).filter((e) => e.startsWith(name) && e !== name);
  const parts = await Promise.all(
    entries.map(async (e) => ((await sysfs.exists(`block/${name}/${e}/partition`)) ? readNode(sysfs, `block/${name}/${e}`, e) : undefined)),
  );
  return parts.filter((p): p is BlockNode => p !== undefined);
}

// Should this /sys/block entry be listed? Loop devices only with a backing file; never hidden paths.
async function isListed(sysfs: Sysfs, name: string): Promise<boolean> {
  if (SKIP.some((re) => re.test(name))) return false;
  if ((await sysfs.readText(`block/${name}/hidden`)) === '1') return false; // NVMe multipath path devices
  if (/^loop\d+$/.test(name)) return (await sysfs.readText(`block/${name}/loop/backing_file`)) !== undefined;
  return true;
}

// One disk from /sys/block/<name>, with the reasons it is in use.
export async function readDisk(sysfs: Sysfs, name: string, usage: BlockUsage): Promise<DiskInfo> {
  const dir = `block/${name}`;
  const [sysPath, size, removable, ro, node, partitions] = await Promise.all([
    sysfs.realpath(dir),
    sysfs.readText(`${dir}/size`),
    sysfs.readText(`${dir}/removable`),
    sysfs.readText(`${dir}/ro`),
    readNode(sysfs, dir, name),
    readPartitions(sysfs, name),
  ]);
  const id = await readDiskIdentity(sysfs, name, sysPath ?? dir);
  return {
    name,
    path: `/dev/${name}`,
    sizeBytes: Number(size ?? 0) * 512, // the `size` file counts 512-byte sectors whatever the logical block size
    ...id,
    removable: removable === '1',
    readOnly: ro === '1',
    inUse: usageReasons(node, partitions, usage),
  };
}

// Every disk that could be an install target, with its identity and in-use reasons, in name order.
export async function listDisks(deps: { sysfs: Sysfs; procfs: Procfs }): Promise<DiskInfo[]> {
  const names = await deps.sysfs.list('block');
  const usage = await readBlockUsage(deps.sysfs, deps.procfs, names);
  const listed = await Promise.all(names.map(async (n) => ((await isListed(deps.sysfs, n)) ? n : undefined)));
  return Promise.all(listed.filter((n): n is string => n !== undefined).map((n) => readDisk(deps.sysfs, n, usage)));
}
