// A writer for the "newc" cpio format the Linux initramfs unpacker reads (kernel docs:
// Documentation/driver-api/early-userspace/buffer-format.rst). Pure: entries in, bytes out.

// One archive member: a directory or a regular file (mode holds the permission bits only).
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer | string; mode?: number };

const TYPE_DIR = 0o040000;
const TYPE_FILE = 0o100000;
const TRAILER = 'TRAILER!!!';

// Serialises entries (uid/gid 0, mtime 0: the same entries always give the same bytes), ending with the trailer.
export function writeCpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    if (!path || path.split('/').includes('..')) throw new Error(`cpio: bad member path ${JSON.stringify(e.path)}`);
    const data = e.kind === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data) : e.data) : Buffer.alloc(0);
    const mode = (e.kind === 'dir' ? TYPE_DIR : TYPE_FILE) | ((e.mode ?? (e.kind === 'dir' ? 0o755 : 0o644)) & 0o7777);
    parts.push(member(path, ino++, mode, e.kind === 'dir' ? 2 : 1, data));
  }
  parts.push(member(TRAILER, 0, 0, 1, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

// The parent directories of `paths` (deepest last), so the unpacker can create each member.
export function parentDirs(paths: readonly string[]): string[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    const segs = p.replace(/^\/+/, '').split('/').slice(0, -1);
    for (let i = 1; i <= segs.length; i++) dirs.add(segs.slice(0, i).join('/'));
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

function member(name: string, ino: number, mode: number, nlink: number, data: Buffer): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const header = `070701${[ino, mode, 0, 0, nlink, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0].map(hex).join('')}`;
  const head = Buffer.concat([Buffer.from(header, 'ascii'), nameBytes]);
  return Buffer.concat([head, pad4(head.length), data, pad4(data.length)]);
}

function pad4(n: number): Buffer {
  return Buffer.alloc((4 - (n % 4)) % 4);
}
