import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { QmpPort } from '../job-targets.js';
import { encodePng } from './png.js';
import { parsePpm } from './ppm.js';
import { SCREENDUMP_DIR } from '../qmp/qmp-policy.js';

/** A screenshot of the guest's screen. */
export interface Screenshot {
  png: Buffer;
  width: number;
  height: number;
}

// Takes a screenshot: QMP screendump to a PPM file in the job directory, read back, removed, encoded as PNG.
export async function takeScreenshot(target: { dir: string; qmp: QmpPort }, timeoutMs = 30_000): Promise<Screenshot> {
  const dir = join(target.dir, SCREENDUMP_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `xepa-${randomBytes(6).toString('hex')}.ppm`);
  try {
    await target.qmp.execute('screendump', { filename: file }, { timeoutMs });
    const img = parsePpm(await readFile(file));
    return { png: encodePng(img), width: img.width, height: img.height };
  } finally {
    await rm(file, { force: true });
  }
}
