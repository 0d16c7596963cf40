import fs from 'node:fs';
import path from 'node:path';
import type { DiskInfo } from '../protocol/inventory.js';
import { XepaError, isENOENT } from '../protocol/errors.js';
import type { DiskSelector } from '../protocol/jobs.js';

// What resolveDisks needs from the outside: where /dev is (the same root the snapshot read), or the whole
// resolution of /dev symlinks such as /dev/disk/by-id/...
export interface ResolveDisksDeps {
  devRoot?: string; // default /dev
  realpath?: (p: string) => string;
}

// Resolves a /dev path (/dev/disk/by-id/... links) through the dev root the agent was given, answering in /dev
// terms (/dev/nvme1n1) as DiskInfo.path is; a path outside /dev resolves as it is. Throws ENOENT when absent.
export function devRealpath(devRoot = '/dev'): (p: string) => string {
  const root = path.resolve(devRoot);
  return (p) => {
    const real = fs.realpathSync(p.startsWith('/dev/') ? path.join(root, p.slice('/dev/'.length)) : p);
    const inside = path.relative(root, real);
    return inside === '' || inside.startsWith('..') || path.isAbsolute(inside) ? real : `/dev/${inside}`;
  };
}

// WWNs are written as naa.5000c500a1b2c3d4, 0x5000c500a1b2c3d4 or eui.0025...: compare them bare.
const bareWwn = (w: string): string => w.trim().toLowerCase().replace(/^(0x|naa\.|eui\.)/, '');

const describe = (s: DiskSelector): string =>
  [
    s.serial !== undefined ? `serial "${s.serial}"` : undefined,
    s.wwn !== undefined ? `wwn "${s.wwn}"` : undefined,
    s.path !== undefined ? `path ${s.path}` : undefined,
  ]
    .filter(Boolean)
    .join(' and ');

const available = (disks: DiskInfo[]): string =>
  disks.length === 0 ? 'no disks' : disks.map((d) => `${d.serial ?? '(no serial)'} (${d.name})`).join(', ');

function resolvePath(p: string, realpath: (p: string) => string, disks: DiskInfo[]): string {
  try {
    return realpath(p);
  } catch (err) {
    if (isENOENT(err)) {
      throw new XepaError('ERR_DEVICE_NOT_FOUND', `no disk at ${p}: it does not exist; available serials: ${available(disks)}`, {
        cause: err,
        details: { path: p },
      });
    }
    throw err;
  }
}

function matchOne(sel: DiskSelector, disks: DiskInfo[], realpath: (p: string) => string): DiskInfo {
  const resolved = sel.path === undefined ? undefined : resolvePath(sel.path, realpath, disks);
  const hits = disks.filter(
    (d) =>
      (sel.serial === undefined || d.serial === sel.serial.trim()) &&
      (sel.wwn === undefined || (d.wwn !== undefined && bareWwn(d.wwn) === bareWwn(sel.wwn))) &&
      (resolved === undefined || d.path === resolved),
  );
  if (hits.length === 0) {
    throw new XepaError('ERR_DEVICE_NOT_FOUND', `no disk matches ${describe(sel)}; available serials: ${available(disks)}`, {
      details: { selector: sel, available: disks.map((d) => ({ name: d.name, serial: d.serial, wwn: d.wwn })) },
    });
  }
  if (hits.length > 1) {
    const names = hits.map((d) => d.name).join(', ');
    throw new XepaError('ERR_BAD_REQUEST', `${describe(sel)} is ambiguous: it matches ${names}; name the disk by wwn or path`, {
      details: { selector: sel, matches: hits.map((d) => d.name) },
    });
  }
  return hits[0]!;
}

// The disks an install may write, in selector order: each selector must name exactly one disk, no disk twice,
// and none that the running system uses (mounted, swap, holders) or that is read-only (ERR_DEVICE_PROTECTED).
export function resolveDisks(selectors: DiskSelector[], disks: DiskInfo[], deps: ResolveDisksDeps = {}): DiskInfo[] {
  const realpath = deps.realpath ?? devRealpath(deps.devRoot);
  const chosen: DiskInfo[] = [];
  const by = new Map<string, DiskSelector>();
  for (const sel of selectors) {
    const disk = matchOne(sel, disks, realpath);
    const earlier = by.get(disk.name);
    if (earlier !== undefined) {
      throw new XepaError('ERR_BAD_REQUEST', `${disk.path} is named twice: by ${describe(earlier)} and by ${describe(sel)}`, {
        details: { disk: disk.name },
      });
    }
    by.set(disk.name, sel);
    chosen.push(disk);
  }
  for (const disk of chosen) {
    const reasons = [...disk.inUse, ...(disk.readOnly ? ['read-only'] : [])];
    if (reasons.length > 0) {
      throw new XepaError('ERR_DEVICE_PROTECTED', `cannot use ${disk.path}: ${reasons.join(', ')}`, {
        details: { disk: disk.name, reasons },
      });
    }
  }
  return chosen;
}
