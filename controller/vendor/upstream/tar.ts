// Extracts named members of a .tar or .tar.gz blob into the store, streaming (Alpine's netboot files come this way:
// the tarball is what upstream signs and checksums, so its members inherit that verification).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { XepaError } from '../../../agent/protocol/index.js';
import type { BlobRef, BlobStore, BlobWriter } from '../store/blob-store.js';

function field(h: Buffer, off: number, len: number): string {
  const s = h.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function octal(h: Buffer, off: number, len: number): number {
  if (h[off]! & 0x80) throw new XepaError('ERR_BAD_REQUEST', 'tar: base-256 sizes are not supported');
  const t = field(h, off, len).trim();
  return t ? parseInt(t, 8) : 0;
}

const normal = (p: string): string => p.replace(/^(\.\/)+/, '').replace(/^\/+/, '');

// Reads the archive at `path` and stores each of `members` as a blob; a missing member is ERR_NOT_FOUND.
export async function extractTarMembers(path: string, members: readonly string[], blobs: BlobStore): Promise<Map<string, BlobRef>> {
  const wanted = new Set(members.map(normal));
  const found = new Map<string, BlobRef>();
  const head = await new Promise<Buffer>((resolve, reject) => {
    const s = createReadStream(path, { start: 0, end: 1 });
    const parts: Buffer[] = [];
    s.on('data', (c) => parts.push(c as Buffer)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
  });
  const raw = createReadStream(path);
  const stream = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  let buf: Buffer = Buffer.alloc(0);
  let remaining = 0; // body bytes of the current member still to come
  let pad = 0; // padding after it
  let writer: BlobWriter | undefined;
  let target: string | undefined;
  let longName: string | undefined;
  let collectName: Buffer[] | undefined;
  let collectKind: 'L' | 'x' = 'L';
  let ended = false;
  try {
    for await (const chunk of stream) {
      buf = buf.length ? Buffer.concat([buf, chunk as Buffer]) : (chunk as Buffer);
      while (!ended) {
        if (remaining > 0) {
          if (buf.length === 0) break;
          const take = buf.subarray(0, Math.min(remaining, buf.length));
          if (writer) await writer.write(take);
          if (collectName) collectName.push(Buffer.from(take));
          remaining -= take.length;
          buf = buf.subarray(take.length);
          if (remaining > 0) break;
          if (writer && target) found.set(target, await writer.commit());
          if (collectName) {
            const text = Buffer.concat(collectName);
            // GNU long name: the name itself; pax header: its `path=` record (other records are ignored)
            longName = collectKind === 'L' ? field(text, 0, text.length) : /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text.toString('utf8'))?.[1];
          }
          writer = undefined;
          target = undefined;
          collectName = undefined;
          continue;
        }
        if (pad > 0) {
          const skip = Math.min(pad, buf.length);
          pad -= skip;
          buf = buf.subarray(skip);
          if (pad > 0) break;
          continue;
        }
        if (buf.length < 512) break;
        const h = buf.subarray(0, 512);
        buf = buf.subarray(512);
        if (h.every((b) => b === 0)) {
          ended = true;
          break;
        }
        const type = String.fromCharCode(h[156]!);
        const prefix = field(h, 345, 155);
        const name = normal(longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100)));
        const size = octal(h, 124, 12);
        remaining = size;
        pad = (512 - (size % 512)) % 512;
        if ((type === 'L' || type === 'x') && size > 0) {
          collectName = [];
          collectKind = type;
          continue;
        }
        longName = undefined;
        if ((type === '0' || type === '\0') && wanted.has(name) && !found.has(name)) {
          writer = await blobs.openWriter();
          target = name;
        }
        if (size === 0 && writer && target) {
          found.set(target, await writer.commit());
          writer = undefined;
          target = undefined;
        }
      }
      if (ended) break;
    }
  } finally {
    if (writer) await writer.abort();
    raw.destroy();
  }
  for (const m of wanted) if (!found.has(m)) throw new XepaError('ERR_NOT_FOUND', `the archive has no member ${m}`);
  return found;
}
