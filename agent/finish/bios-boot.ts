import type { ToolRunner } from '../fidelity/index.js';
import { readBytesAt } from '../landing/index.js';

// GPT type of GRUB's BIOS boot partition (where grub-install puts core.img on a GPT disk).
export const BIOS_BOOT_GPT_TYPE = '21686148-6449-6E6F-744E-656564454649';

// What a BIOS will find on one disk: boot code in the MBR, and where GRUB's core image is.
export interface BiosBootDisk {
  disk: string;
  label: 'dos' | 'gpt' | 'none';
  signature: boolean; // 0x55 0xAA at byte 510
  code: 'grub' | 'windows' | 'syslinux' | 'other' | 'none';
  // GRUB only: core.img in the gap after the MBR (dos), in the BIOS boot partition (gpt), or missing
  core?: { where: string; ok: boolean };
  ok: boolean;
  message: string;
}

interface SfdiskJson {
  partitiontable?: { label?: string; sectorsize?: number; partitions?: { node: string; start: number; size: number; type: string }[] };
}

// The sector GRUB's boot.img loads its core image from: the LBA patched in at 0x5c by grub-install, or at
// 0x1b0 in the hybrid MBR of an ISO image (xorriso's boot_hybrid.img). Pure.
export function grubCoreLba(mbr: Buffer): number {
  if (mbr.length < 512) return 0;
  const lba = Number(mbr.readBigUInt64LE(0x5c));
  return lba > 0 ? lba : Number(mbr.readBigUInt64LE(0x1b0));
}

/**
 * What a BIOS starts from a disk: the MBR's boot code (which loader wrote it) and, for GRUB, whether its core
 * image is at the sector boot.img loads (the gap after the MBR, the BIOS boot partition on GPT, or inside a
 * hybrid ISO). Pure: `core` is the 512 bytes at grubCoreLba(mbr).
 */
export function inspectBiosBoot(disk: string, mbr: Buffer, sfdiskJson: string | undefined, core: Buffer | undefined): BiosBootDisk {
  const t = sfdiskJson ? (JSON.parse(sfdiskJson) as SfdiskJson).partitiontable : undefined;
  const label: BiosBootDisk['label'] = t?.label === 'gpt' ? 'gpt' : t?.label === 'dos' ? 'dos' : 'none';
  const signature = mbr.length >= 512 && mbr[510] === 0x55 && mbr[511] === 0xaa;
  const text = mbr.subarray(0, 440).toString('latin1');
  const hasCode = mbr.subarray(0, 440).some((b) => b !== 0);
  const code: BiosBootDisk['code'] = !signature || !hasCode ? 'none'
    : text.includes('GRUB') ? 'grub'
      : /Invalid partition table|Missing operating system|BOOTMGR/.test(text) ? 'windows'
        : /SYSLINUX|ISOLINUX|Missing OS/.test(text) ? 'syslinux' : 'other';
  const base = { disk, label, signature, code };
  if (code === 'none') return { ...base, ok: false, message: `${disk}: no boot code in the MBR (${signature ? 'boot code area empty' : 'no 55AA signature'}): a BIOS cannot start this disk` };
  if (code !== 'grub') return { ...base, ok: true, message: `${disk}: ${code} boot code in the MBR` };
  const lba = grubCoreLba(mbr);
  const sector = t?.sectorsize ?? 512;
  const parts = t?.partitions ?? [];
  const bb = parts.find((p) => p.type.toUpperCase() === BIOS_BOOT_GPT_TYPE);
  const firstStart = Math.min(...parts.map((p) => p.start), Number.MAX_SAFE_INTEGER);
  const where = lba === 0 ? 'no core sector recorded in the MBR'
    : bb && lba >= bb.start && lba < bb.start + bb.size ? `the BIOS boot partition ${bb.node}`
      : lba < firstStart ? `the gap after the MBR (sector ${lba})`
        : `sector ${lba} inside ${parts.find((p) => lba >= p.start && lba < p.start + p.size)?.node ?? 'the disk'}`;
  const ok = lba > 0 && core !== undefined && core.length === sector && core.some((b) => b !== 0);
  if (label === 'gpt' && !bb && lba < firstStart) {
    return { ...base, core: { where: 'no BIOS boot partition', ok: false }, ok: false, message: `${disk}: GRUB boot code on a GPT disk without a BIOS boot partition` };
  }
  return { ...base, core: { where, ok }, ok, message: `${disk}: GRUB boot code, core image ${ok ? 'at' : 'missing from'} ${where}` };
}

/** Checks every disk the job installed onto for what a BIOS boots (the MBR's code and GRUB's core image). */
export async function checkBiosBoot(disks: string[], run: ToolRunner, read: (disk: string, offset: number, length: number) => Promise<Buffer> = readBytesAt): Promise<BiosBootDisk[]> {
  const out: BiosBootDisk[] = [];
  for (const disk of disks) {
    const mbr = await read(disk, 0, 512);
    const r = await run('sfdisk', ['--json', disk]);
    const t = r.code === 0 ? r.stdout : undefined;
    const sector = t ? ((JSON.parse(t) as SfdiskJson).partitiontable?.sectorsize ?? 512) : 512;
    const lba = grubCoreLba(mbr);
    out.push(inspectBiosBoot(disk, mbr, t, lba > 0 ? await read(disk, lba * sector, sector) : undefined));
  }
  return out;
}

