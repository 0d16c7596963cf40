import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { XepaError } from '../../agent/protocol/index.js';

const run = promisify(execFile);

export interface LoopDisk {
  device: string; // /dev/loopN
  image: string; // the backing file
  detach(): Promise<void>;
}

// Creates a sparse disk image and attaches it as a loop device: a "server disk" the demo can hand to the agent.
export async function createLoopDisk(image: string, sizeMiB: number): Promise<LoopDisk> {
  const fh = await fs.open(image, 'w');
  await fh.truncate(sizeMiB * 1024 * 1024);
  await fh.close();
  let device: string;
  try {
    device = (await run('losetup', ['--find', '--show', image])).stdout.trim();
  } catch (err) {
    throw new XepaError('ERR_DEVICE_NOT_FOUND', `cannot attach ${image} to a loop device (root and the loop module are needed): ${(err as Error).message}`, { cause: err });
  }
  let detached = false;
  return {
    device,
    image,
    detach: async () => {
      if (detached) return;
      detached = true;
      await run('losetup', ['--detach', device]);
    },
  };
}

// Loop devices still backed by files under `dir` (to prove the demo left none behind).
export async function loopDevicesUnder(dir: string): Promise<string[]> {
  const { stdout } = await run('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']);
  return stdout.split('\n').filter((l) => l.includes(dir)).map((l) => l.trim().split(/\s+/)[0]!);
}
