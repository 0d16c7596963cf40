// Generated releases for the fake upstream: a newc initramfs with static busybox whose /init prints a line on the
// serial console and powers off. With the test ISO's kernel it is a real kernel+initrd "OS" that boots in seconds.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

// The line a good fake release prints (validation and boot tests wait for it).
export const BOOT_MARKER = 'XEPA-VENDOR-BOOT-OK';

interface Entry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);

// A newc ("070701") cpio archive of `entries` — what Linux unpacks as an initramfs.
export function newcCpio(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const fields = [ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0];
    const header = Buffer.from(`070701${fields.map(hex8).join('')}`);
    parts.push(header, name, pad4(header.length + name.length), data, pad4(data.length));
  }
  return Buffer.concat(parts);
}

// An initramfs whose init prints `line` on the console and powers off (busybox-static from Debian).
export function initramfsPrinting(line: string, busybox = '/bin/busybox'): Buffer {
  const init = `#!/bin/busybox sh\necho "${line}"\n/bin/busybox poweroff -f\n`;
  return newcCpio([
    { name: 'bin', mode: 0o40755 },
    { name: 'bin/busybox', mode: 0o100755, data: readFileSync(busybox) },
    { name: 'dev', mode: 0o40755 },
    { name: 'dev/console', mode: 0o20600, rdev: [5, 1] },
    { name: 'init', mode: 0o100755, data: Buffer.from(init) },
  ]);
}

// The hex sha256 of a buffer.
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// A GNU sha256sum file for name -> content.
export function sha256sums(files: Record<string, Buffer>): string {
  return Object.entries(files).map(([n, b]) => `${sha256(b)}  ${n}\n`).join('');
}
