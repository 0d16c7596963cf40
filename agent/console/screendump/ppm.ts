import { XepaError } from '../../protocol/index.js';

/** An RGB image, 8 bits per channel, rows top to bottom, no padding. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Buffer; // width * height * 3 bytes
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;

// Parses a binary PPM (P6, maxval 255), the format QEMU's screendump writes. Throws ERR_BAD_REQUEST otherwise.
export function parsePpm(data: Buffer): RgbImage {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < data.length && isSpace(data[pos]!)) pos++;
      if (data[pos] !== 0x23) break; // '#': a comment to the end of the line
      while (pos < data.length && data[pos] !== 0x0a) pos++;
    }
    const start = pos;
    while (pos < data.length && !isSpace(data[pos]!)) pos++;
    return data.subarray(start, pos).toString('latin1');
  };
  const bad = (why: string): XepaError => new XepaError('ERR_BAD_REQUEST', `not a screendump PPM: ${why}`);
  if (token() !== 'P6') throw bad('magic is not P6');
  const width = Number(token());
  const height = Number(token());
  const maxval = Number(token());
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 16384 || height > 16384) {
    throw bad(`size ${width}x${height}`);
  }
  if (maxval !== 255) throw bad(`maxval ${maxval} (only 255)`);
  pos++; // exactly one whitespace byte after maxval
  const bytes = width * height * 3;
  if (data.length - pos < bytes) throw bad(`${data.length - pos} pixel bytes, ${bytes} expected`);
  return { width, height, rgb: data.subarray(pos, pos + bytes) };
}
