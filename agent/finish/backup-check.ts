import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import type { PartitionBackup } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';

// A partition-table backup is checked by its shape and digest before any of it is decompressed, and then
// decompressed with a cap: exactly the number of bytes it declares, never more (docs/fidelity.md).

// Each raw end of a disk kept in a backup is at most this long (the first and last MiB).
export const RAW_END_BYTES = 1024 * 1024;
// The longest compressed end a backup carries: a control message is at most 1 MiB.
export const MAX_GZ_BASE64 = 1_200_000;
// The longest `sfdisk --dump` text a backup carries (128 GPT entries are ~16 KiB).
export const MAX_SFDISK_CHARS = 256 * 1024;

const refuse = (b: PartitionBackup, why: string): XepaError => new XepaError('ERR_BAD_REQUEST', `the partition-table backup of ${b.disk} is refused: ${why}`);

/**
 * Refuses (ERR_BAD_REQUEST) a backup that declares ends longer than RAW_END_BYTES, compressed text over the
 * limits, or ranges that do not lie inside a disk of `diskBytes` bytes. Reads no compressed byte.
 */
export function checkBackupBounds(b: PartitionBackup, diskBytes: number): void {
  const ints = [b.sizeBytes, b.head.bytes, b.tail.bytes, b.tail.offset];
  if (!ints.every((n) => Number.isSafeInteger(n) && n >= 0)) throw refuse(b, 'sizes and offsets must be non-negative integers');
  if (b.head.bytes > RAW_END_BYTES || b.tail.bytes > RAW_END_BYTES) throw refuse(b, `an end is longer than ${RAW_END_BYTES} bytes`);
  if (b.head.gzBase64.length > MAX_GZ_BASE64 || b.tail.gzBase64.length > MAX_GZ_BASE64) throw refuse(b, `compressed data over ${MAX_GZ_BASE64} characters`);
  if ((b.sfdisk?.length ?? 0) > MAX_SFDISK_CHARS) throw refuse(b, `sfdisk dump over ${MAX_SFDISK_CHARS} characters`);
  if (b.head.bytes > diskBytes) throw refuse(b, `its first ${b.head.bytes} bytes do not fit a disk of ${diskBytes}`);
  if (b.tail.offset + b.tail.bytes > diskBytes) throw refuse(b, `bytes ${b.tail.offset}..${b.tail.offset + b.tail.bytes} lie beyond the end of a disk of ${diskBytes}`);
}

// The SHA-256 of a backup record as a whole (every field, in a fixed order): two records with one digest are the same record.
export function backupDigest(b: PartitionBackup): string {
  const fields = [b.disk, b.serial ?? null, b.wwn ?? null, b.sizeBytes, b.takenAt, b.sfdisk ?? null, b.head.bytes, b.head.gzBase64, b.tail.bytes, b.tail.offset, b.tail.gzBase64, b.sha256];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

// Decompresses gzip+base64 text that must hold exactly `bytes` bytes.
export type Inflate = (gzBase64: string, bytes: number, what: string) => Promise<Buffer>;

/**
 * The real Inflate: a streaming gunzip that stops (ERR_BAD_REQUEST) as soon as the output passes `bytes`,
 * so a decompression bomb costs at most `bytes` plus one chunk of memory. `onChunk` sees each output chunk's
 * length (tests bound the total with it).
 */
export function inflateCapped(onChunk: (n: number) => void = () => undefined): Inflate {
  return (gzBase64, bytes, what) =>
    new Promise<Buffer>((resolve, reject) => {
      const gunzip = createGunzip({ chunkSize: 16 * 1024 });
      const chunks: Buffer[] = [];
      let total = 0;
      let settled = false;
      const fail = (err: XepaError): void => {
        if (settled) return;
        settled = true;
        gunzip.destroy();
        reject(err);
      };
      gunzip.on('data', (c: Buffer) => {
        onChunk(c.length);
        total += c.length;
        if (total > bytes) return fail(new XepaError('ERR_BAD_REQUEST', `${what} decompresses to more than the ${bytes} bytes it declares: refused`));
        chunks.push(c);
      });
      gunzip.on('error', (err) => fail(new XepaError('ERR_BAD_REQUEST', `${what} is not valid gzip data: ${err.message}`, { cause: err })));
      gunzip.on('end', () => {
        if (settled) return;
        if (total !== bytes) return fail(new XepaError('ERR_BAD_REQUEST', `${what} decompresses to ${total} bytes, it declares ${bytes}`));
        settled = true;
        resolve(Buffer.concat(chunks, total));
      });
      gunzip.end(Buffer.from(gzBase64, 'base64'));
    });
}
