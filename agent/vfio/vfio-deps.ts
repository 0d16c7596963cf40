import { spawn as nodeSpawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { Sysfs } from '../host/index.js';
import { XepaError } from '../protocol/index.js';

// What binding and restoring touch: sysfs, /dev (for /dev/vfio/<group>), the state dir, modprobe, time.
export interface VfioDeps {
  sysfs: Sysfs;
  log: Logger;
  stateDir: string; // journals live in <stateDir>/vfio
  devRoot?: string; // default /dev
  modprobe?: (module: string) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  devWaitMs?: number; // how long udev/devtmpfs may take to create /dev/vfio/<group>; default 5000
  now?: () => Date;
}

// The vfio-pci driver's name in sysfs (bus/pci/drivers/vfio-pci) and for driver_override.
export const VFIO_DRIVER = 'vfio-pci';

export const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Runs `modprobe MODULE`, failing with ERR_VFIO_BIND and modprobe's own words when it exits non-zero.
export function spawnModprobe(spawn: typeof nodeSpawn = nodeSpawn): (module: string) => Promise<void> {
  return (module) =>
    new Promise((resolve, reject) => {
      const child = spawn('modprobe', [module], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
      child.on('error', (err) => reject(new XepaError('ERR_VFIO_BIND', `cannot run modprobe ${module}: ${err.message}`, { cause: err })));
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new XepaError('ERR_VFIO_BIND', `modprobe ${module} failed (exit ${code}): ${stderr.trim() || 'no output'}`));
      });
    });
}
