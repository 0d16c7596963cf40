// Which disk a restore may touch, decided from the agent's own records (pure: no I/O).
import { describe, expect, it } from 'vitest';
import { chooseRestore, type RestoreRequest } from '../../../agent/finish/index.js';
import type { DiskInfo, PartitionBackup, Plan } from '../../../agent/protocol/index.js';
import { codeOf } from '../../support/error-code.js';

const disk = (path: string, o: Partial<DiskInfo> = {}): DiskInfo => ({ name: path.slice(5), path, sizeBytes: 1 << 30, removable: false, readOnly: false, inUse: [], ...o });
const backupOf = (d: DiskInfo): PartitionBackup => ({
  disk: d.path, ...(d.serial ? { serial: d.serial } : {}), ...(d.wwn ? { wwn: d.wwn } : {}), sizeBytes: d.sizeBytes, takenAt: 't',
  head: { bytes: 0, gzBase64: '' }, tail: { bytes: 0, offset: d.sizeBytes, gzBase64: '' }, sha256: '0'.repeat(64),
});
const planOf = (disks: DiskInfo[], bind: string[] = []): Plan => ({
  hash: 'h', disks: disks.map((d) => ({ path: d.path, name: d.name, serial: d.serial, wwn: d.wwn, sizeBytes: d.sizeBytes, via: bind.length ? ('vfio' as const) : ('raw' as const) })),
  firmware: 'bios', accel: 'tcg', accelReason: 't', memoryMiB: 256, cpus: 1, diskBus: 'virtio', iommu: bind.length > 0, warnings: [],
  ...(bind.length ? { passthrough: { mode: 'vfio' as const, devices: [], bind: bind.map((bdf) => ({ bdf, group: 1 })), groups: [], protected: [], interruptRemapping: 'on' as const } } : {}),
});
const request = (owned: DiskInfo, host: DiskInfo[], others: RestoreRequest['jobs'] = []): RestoreRequest => {
  const job = { id: 'job-a', state: 'done' as const, plan: planOf([owned]), backups: [backupOf(owned)] };
  return { job, disk: owned.path, hostDisks: host, jobs: [job, ...others] };
};

describe('chooseRestore', () => {
  const nvme = disk('/dev/nvme0n1', { serial: 'S1', wwn: 'eui.1', pciAddress: '0000:01:00.0' });

  it('finds the disk by its saved serial and WWN wherever it is now', () => {
    const moved = { ...nvme, path: '/dev/nvme1n1', name: 'nvme1n1' };
    expect(chooseRestore(request(nvme, [disk('/dev/nvme0n1', { serial: 'OTHER' }), moved])).target.path).toBe('/dev/nvme1n1');
  });

  it('refuses while another job has the disk in its plan, or passes its controller through', () => {
    const raw = { id: 'job-b', state: 'running' as const, plan: planOf([nvme]) };
    expect(codeOf(() => chooseRestore(request(nvme, [nvme], [raw])))).toBe('ERR_DEVICE_BUSY');
    const vfio = { id: 'job-c', state: 'binding' as const, plan: planOf([disk('/dev/nvme9n1', { serial: 'S9' })], ['0000:01:00.0']) };
    expect(codeOf(() => chooseRestore(request(nvme, [nvme], [vfio])))).toBe('ERR_DEVICE_BUSY');
    const ended = { ...raw, state: 'failed' as const };
    expect(codeOf(() => chooseRestore(request(nvme, [nvme], [ended])))).toBeUndefined();
  });

  it('refuses when two disks now claim the saved identity', () => {
    expect(codeOf(() => chooseRestore(request(nvme, [nvme, { ...nvme, path: '/dev/sdz' }])))).toBe('ERR_DEVICE_NOT_FOUND');
  });

  it('matches a disk saved without serial or WWN only at its path, and only while it still has neither', () => {
    const loop = disk('/dev/loop3');
    expect(chooseRestore(request(loop, [loop])).target.path).toBe('/dev/loop3');
    expect(codeOf(() => chooseRestore(request(loop, [{ ...loop, serial: 'NEW' }])))).toBe('ERR_DEVICE_NOT_FOUND');
  });

  it('refuses a disk whose size changed', () => {
    expect(codeOf(() => chooseRestore(request(nvme, [{ ...nvme, sizeBytes: 1 << 29 }])))).toBe('ERR_BAD_REQUEST');
  });
});
