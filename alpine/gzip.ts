import { deflateRawSync } from 'node:zlib';

// RFC 1952 CRC-32 table.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

// CRC-32 of the data (the gzip trailer's checksum).
export function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// gzip with a header we write ourselves: no file name, mtime 0, OS "Unix", so only the data decides the bytes.
export function gzipDeterministic(data: Buffer): Buffer {
  const head = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0x03]); // ID, CM=deflate, no flags, mtime 0, XFL=max, OS=Unix
  const body = deflateRawSync(data, { level: 9 });
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(crc32(data), 0);
  tail.writeUInt32LE(data.length >>> 0, 4); // ISIZE: length mod 2^32
  return Buffer.concat([head, body, tail]);
}
