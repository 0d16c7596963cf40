import { crc32 as zlibCrc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng, parsePpm } from '../../../agent/console/index.js';
import { codeOf } from '../../support/error-code.js';

// Reads a PNG's chunks, checking each CRC against zlib's, and undoes the Sub filter: the pixels back.
function decodePng(png: Buffer): { width: number; height: number; rgb: Buffer; types: string[] } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let at = 8;
  const types: string[] = [];
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString('latin1');
    const data = png.subarray(at + 8, at + 8 + len);
    expect(png.readUInt32BE(at + 8 + len)).toBe(zlibCrc32(png.subarray(at + 4, at + 8 + len)));
    types.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  const rgb = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    expect(filter).toBe(1);
    for (let i = 0; i < stride; i++) {
      const left = i >= 3 ? rgb[y * stride + i - 3]! : 0;
      rgb[y * stride + i] = (raw[y * (stride + 1) + 1 + i]! + left) & 0xff;
    }
  }
  return { width, height, rgb, types };
}

const ppm = (w: number, h: number, rgb: Buffer, header = `P6\n${w} ${h}\n255\n`): Buffer => Buffer.concat([Buffer.from(header, 'latin1'), rgb]);

describe('screendump PPM to PNG', () => {
  it('computes the same CRC-32 as zlib', () => {
    const data = Buffer.from('IHDR and some bytes \u00ff\u0000', 'latin1');
    expect(crc32([data.subarray(0, 5), data.subarray(5)])).toBe(zlibCrc32(data));
  });

  it('encodes an image whose chunks, CRCs and pixels read back exactly', () => {
    const w = 37;
    const h = 11;
    const rgb = Buffer.alloc(w * h * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7919) & 0xff;
    const back = decodePng(encodePng({ width: w, height: h, rgb }));
    expect(back.types).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([back.width, back.height]).toEqual([w, h]);
    expect(back.rgb).toEqual(rgb);
  });

  it('parses QEMU screendump PPM, comments included', () => {
    const rgb = Buffer.from([1, 2, 3, 4, 5, 6]);
    expect(parsePpm(ppm(2, 1, rgb))).toEqual({ width: 2, height: 1, rgb });
    expect(parsePpm(ppm(2, 1, rgb, 'P6\n# made by qemu\n2 1\n255\n')).rgb).toEqual(rgb);
  });

  it('refuses (ERR_BAD_REQUEST) what is not a complete 8-bit P6 image', () => {
    for (const bad of [Buffer.from('P3\n1 1\n255\n0 0 0\n'), ppm(2, 2, Buffer.alloc(5)), ppm(1, 1, Buffer.alloc(6), 'P6\n1 1\n65535\n')]) {
      expect(codeOf(() => parsePpm(bad))).toBe('ERR_BAD_REQUEST');
    }
  });
});
