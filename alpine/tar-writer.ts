// A tiny deterministic ustar writer: fixed owner (root), fixed mtime, entries in a fixed order, so the same
// entries always give the same bytes (the apkovl must be reproducible). Enough for overlays: files, directories,
// symbolic links.

/** One archive member; paths are relative ("etc/init.d/x"), directories without a trailing slash. */
export type TarEntry =
  | { type: 'file'; path: string; mode: number; data: Buffer | string }
  | { type: 'dir'; path: string; mode: number }
  | { type: 'symlink'; path: string; target: string };

/** Archive-wide settings. */
export interface TarOptions {
  mtime?: number; // seconds since the epoch for every member; default TAR_DEFAULT_MTIME
}

// 2000-01-01T00:00:00Z: fixed, and old enough that no tool warns about a time stamp in the future.
export const TAR_DEFAULT_MTIME = 946_684_800;

const BLOCK = 512;

// Parents before children, siblings by byte order of their names: the order `tar` extracts most simply.
export function compareTarPaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = Buffer.from(pa[i]!);
    const y = Buffer.from(pb[i]!);
    const c = Buffer.compare(x, y);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function writeString(buf: Buffer, offset: number, width: number, text: string, what: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > width) throw new RangeError(`tar: ${what} "${text}" is longer than ${width} bytes`);
  bytes.copy(buf, offset);
}

// ustar keeps long paths as prefix (155) + "/" + name (100).
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { prefix, name };
  }
  throw new RangeError(`tar: path "${path}" is too long for ustar`);
}

function header(entry: TarEntry, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const path = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const { prefix, name } = splitPath(path);
  writeString(h, 0, 100, name, 'name');
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
  writeString(h, 100, 8, octal(mode & 0o7777, 8), 'mode');
  writeString(h, 108, 8, octal(0, 8), 'uid');
  writeString(h, 116, 8, octal(0, 8), 'gid');
  writeString(h, 124, 12, octal(size, 12), 'size');
  writeString(h, 136, 12, octal(mtime, 12), 'mtime');
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h[156] = entry.type === 'file' ? 0x30 : entry.type === 'dir' ? 0x35 : 0x32; // '0' '5' '2'
  if (entry.type === 'symlink') writeString(h, 157, 100, entry.target, 'link target');
  writeString(h, 257, 6, 'ustar\0', 'magic');
  writeString(h, 263, 2, '00', 'version');
  writeString(h, 265, 32, 'root', 'user name');
  writeString(h, 297, 32, 'root', 'group name');
  writeString(h, 329, 8, octal(0, 8), 'devmajor');
  writeString(h, 337, 8, octal(0, 8), 'devminor');
  writeString(h, 345, 155, prefix, 'prefix');
  let sum = 0;
  for (const byte of h) sum += byte;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `, 'checksum');
  return h;
}

// Writes the entries as an uncompressed ustar archive (sorted by compareTarPaths; duplicate paths refused).
export function writeTar(entries: readonly TarEntry[], opts: TarOptions = {}): Buffer {
  const mtime = opts.mtime ?? TAR_DEFAULT_MTIME;
  const sorted = [...entries].sort((a, b) => compareTarPaths(a.path, b.path));
  const parts: Buffer[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const entry = sorted[i]!;
    if (entry.path === '' || entry.path.startsWith('/') || entry.path.endsWith('/') || entry.path.split('/').includes('..')) {
      throw new RangeError(`tar: "${entry.path}" must be a relative path without "..", leading or trailing "/"`);
    }
    if (i > 0 && sorted[i - 1]!.path === entry.path) throw new RangeError(`tar: "${entry.path}" appears twice`);
    const data = entry.type === 'file' ? Buffer.from(entry.data) : Buffer.alloc(0);
    parts.push(header(entry, data.length, mtime));
    if (data.length > 0) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad, 0));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0)); // end of archive: two zero blocks
  return Buffer.concat(parts);
}
