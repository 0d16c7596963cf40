// Which block devices are in use by the running system: mounts, swap and holders (md, dm, LVM).

// A mounted filesystem: its source as written (`/dev/sda1`, `/dev/root`) and, from mountinfo, major:minor.
export interface MountEntry {
  source: string;
  mountPoint: string;
  majMin?: string;
}

// One block node (a disk or one of its partitions) as sysfs shows it.
export interface BlockNode {
  name: string; // sda, sda1
  dev?: string; // major:minor from the `dev` file
  holders: string[]; // names in holders/
}

// What the running system holds, indexed for lookups by device name and by major:minor.
export interface BlockUsage {
  mountsByName: Map<string, string[]>;
  mountsByDev: Map<string, string[]>;
  swaps: Set<string>;
}

// Undoes the octal escapes procfs uses in paths (`\040` for a space).
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

// Parses /proc/mounts lines: `source mountpoint fstype options dump pass`.
export function parseMounts(text: string): MountEntry[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && f[0] !== '')
    .map((f) => ({ source: unescape(f[0]!), mountPoint: unescape(f[1]!) }));
}

// Parses /proc/self/mountinfo: `id parent maj:min root mountpoint opts [optional...] - fstype source superopts`.
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const dash = f.indexOf('-');
    if (f.length < 7 || dash < 6 || f[dash + 2] === undefined) continue;
    out.push({ source: unescape(f[dash + 2]!), mountPoint: unescape(f[4]!), majMin: f[2]! });
  }
  return out;
}

// Parses /proc/swaps into the swap areas' paths (`/dev/sda2`, `/swapfile`).
export function parseSwaps(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((p) => p !== '')
    .map(unescape);
}

// The kernel device name behind a /dev path: /dev/sda1 -> sda1, /dev/mapper/vg-root -> dm-0 (via dmNames).
export function deviceNameOf(devPath: string, dmNames: Map<string, string>): string | undefined {
  if (!devPath.startsWith('/dev/')) return undefined;
  const rest = devPath.slice('/dev/'.length);
  if (rest.startsWith('mapper/')) return dmNames.get(rest.slice('mapper/'.length));
  return rest.includes('/') ? undefined : rest;
}

const push = (m: Map<string, string[]>, k: string, v: string): void => {
  const list = m.get(k);
  if (!list) m.set(k, [v]);
  else if (!list.includes(v)) list.push(v);
};

// Indexes mounts and swaps; `dmNames` maps device-mapper names (vg-root) to kernel names (dm-0).
export function indexBlockUsage(mounts: MountEntry[], swaps: string[], dmNames: Map<string, string>): BlockUsage {
  const usage: BlockUsage = { mountsByName: new Map(), mountsByDev: new Map(), swaps: new Set() };
  for (const m of mounts) {
    const name = deviceNameOf(m.source, dmNames);
    if (name !== undefined) push(usage.mountsByName, name, m.mountPoint);
    // major 0 is the anonymous block device of tmpfs, proc, btrfs subvolumes ...: never a disk.
    if (m.majMin !== undefined && !m.majMin.startsWith('0:')) push(usage.mountsByDev, m.majMin, m.mountPoint);
  }
  for (const s of swaps) {
    const name = deviceNameOf(s, dmNames);
    if (name !== undefined) usage.swaps.add(name);
  }
  return usage;
}

// Why a disk cannot be handed to a VM: "mounted at / (sda1)", "swap (sda2)", "holder dm-0 (sda3)" ...
export function usageReasons(disk: BlockNode, partitions: BlockNode[], usage: BlockUsage): string[] {
  const reasons: string[] = [];
  const add = (r: string): void => {
    if (!reasons.includes(r)) reasons.push(r);
  };
  for (const node of [disk, ...partitions]) {
    const suffix = node === disk ? '' : ` (${node.name})`;
    const points = [...(usage.mountsByName.get(node.name) ?? []), ...(node.dev ? (usage.mountsByDev.get(node.dev) ?? []) : [])];
    for (const p of points) add(`mounted at ${p}${suffix}`);
    if (usage.swaps.has(node.name)) add(`swap${suffix}`);
  }
  for (const node of [disk, ...partitions]) {
    const suffix = node === disk ? '' : ` (${node.name})`;
    for (const h of node.holders) add(`holder ${h}${suffix}`);
  }
  return reasons;
}
