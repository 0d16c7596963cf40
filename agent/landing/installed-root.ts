import { promises as fs } from 'node:fs';
import type { ToolRunner } from '../fidelity/index.js';
import { probeFs, readBytesAt, ROOT_FS, type FsKind, type ReadAt } from './fs-probe.js';

// One partition (or a whole disk without a table) of the job's disks, with what it holds.
export interface DiskPart {
  disk: string;
  // the partition's device node when the kernel made one, else undefined (an image file: mounted by offset)
  node?: string;
  name: string; // sfdisk's node name, for people (/dev/sda2, disk.img2)
  number: number; // 0 for a whole disk
  offsetBytes: number;
  sizeBytes: number;
  fs: FsKind;
}

// How the partitions are read: sfdisk, a byte reader per disk, and whether a path is a block device.
export interface PartsDeps {
  run: ToolRunner;
  readAt?: (disk: string) => ReadAt;
  isBlockDevice?: (path: string) => Promise<boolean>;
  diskSize?: (disk: string) => Promise<number>;
}

interface SfdiskJson {
  partitiontable?: { sectorsize?: number; partitions?: { node: string; start: number; size: number }[] };
}

/** Every partition of the disks with its filesystem kind (a disk without a partition table counts as one). */
export async function listDiskParts(disks: string[], deps: PartsDeps): Promise<DiskPart[]> {
  const readAt = deps.readAt ?? fileReadAt;
  const isBlock = deps.isBlockDevice ?? ((p: string) => fs.stat(p).then((s) => s.isBlockDevice(), () => false));
  const out: DiskPart[] = [];
  for (const disk of disks) {
    const r = await deps.run('sfdisk', ['--json', disk]);
    const t = r.code === 0 ? (JSON.parse(r.stdout) as SfdiskJson).partitiontable : undefined;
    const reader = readAt(disk);
    if (!t?.partitions?.length) {
      const size = await (deps.diskSize ?? fileSize)(disk);
      out.push({ disk, ...((await isBlock(disk)) ? { node: disk } : {}), name: disk, number: 0, offsetBytes: 0, sizeBytes: size, fs: await probeFs(reader, size) });
      continue;
    }
    // A hybrid ISO image (installer media written to the disk) carries a partition table beside its ISO 9660
    // volume at the disk's start: name the whole disk too, so the report says what is really there.
    const whole = await reader(0x8001, 5);
    if (whole.toString('latin1') === 'CD001') out.push({ disk, name: `${disk} (whole disk)`, number: 0, offsetBytes: 0, sizeBytes: await (deps.diskSize ?? fileSize)(disk), fs: 'iso9660' });
    const sector = t.sectorsize ?? 512;
    for (const p of t.partitions) {
      const offsetBytes = p.start * sector;
      const sizeBytes = p.size * sector;
      const part: ReadAt = (off, len) => reader(offsetBytes + off, Math.max(0, Math.min(len, sizeBytes - off)));
      out.push({
        disk,
        ...((await isBlock(p.node)) ? { node: p.node } : {}),
        name: p.node,
        number: Number(/(\d+)$/.exec(p.node)?.[1] ?? 0),
        offsetBytes,
        sizeBytes,
        fs: await probeFs(part, sizeBytes),
      });
    }
  }
  return out;
}

// The partitions that may hold a Linux root, and sentences for the ones finish cannot open.
export function rootCandidates(parts: DiskPart[]): { candidates: DiskPart[]; problems: string[] } {
  const problems: string[] = [];
  for (const p of parts) {
    if (p.fs === 'LVM2_member') problems.push(`${p.name} is an LVM physical volume: finish does not open LVM volume groups yet (this rescue kernel would need device-mapper; the lab is where LVM roots are to be proven)`);
    if (p.fs === 'linux_raid_member') problems.push(`${p.name} is an md RAID member: finish does not assemble md arrays yet (this rescue kernel would need the md driver; the lab is where md roots are to be proven)`);
    if (p.fs === 'ntfs') problems.push(`${p.name} holds NTFS: a Windows system (finish configures only Linux systems' networks)`);
    if (p.fs === 'zfs_member') problems.push(`${p.name} is a ZFS pool member: finish does not import ZFS pools`);
  }
  return { candidates: parts.filter((p) => ROOT_FS[p.fs] !== undefined), problems };
}

const fileReadAt = (disk: string): ReadAt => (offset, length) => readBytesAt(disk, offset, length);

// An image file's size, or a block device's from sysfs (512-byte sectors).
async function fileSize(disk: string): Promise<number> {
  const st = await fs.stat(disk);
  if (st.isFile()) return st.size;
  const name = (await fs.realpath(disk)).split('/').pop()!;
  return Number((await fs.readFile(`/sys/class/block/${name}/size`, 'utf8')).trim()) * 512;
}
