// Reads the outer VM's disk image files on the host: the proof that what the inner installer wrote through
// vfio-pci reached the "bare-metal" disk.
import { promises as fsp } from 'node:fs';

// Where `disk` first differs from `image` within image's length; undefined when disk begins with image exactly.
export async function firstDifference(disk: string, image: string): Promise<number | undefined> {
  const [a, b] = await Promise.all([fsp.open(disk, 'r'), fsp.open(image, 'r')]);
  try {
    const size = (await b.stat()).size;
    const chunk = 1 << 20;
    const x = Buffer.alloc(chunk);
    const y = Buffer.alloc(chunk);
    for (let off = 0; off < size; off += chunk) {
      const n = Math.min(chunk, size - off);
      const ra = await a.read(x, 0, n, off);
      await b.read(y, 0, n, off);
      for (let i = 0; i < n; i++) if (i >= ra.bytesRead || x[i] !== y[i]) return off + i;
    }
    return undefined;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

// True when the first `bytes` of the file are all zero (a fresh or wiped disk).
export async function isZeroed(file: string, bytes: number): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).every((v) => v === 0);
  } finally {
    await fh.close();
  }
}
