import { describe, expect, it } from 'vitest';
import { isXepaError } from '../../../agent/protocol/index.js';
import { buildQemuArgs, type VmSpec } from '../../../agent/vm/index.js';

const base: VmSpec = {
  name: 'job1', accel: 'kvm', memoryMiB: 2048, cpus: 2, firmware: { mode: 'bios' }, disks: [], cdrom: '/i.iso',
  sockets: { qmp: '/j/qmp.sock', vnc: '/j/vnc.sock', serial: ['/j/s0.sock', '/j/s1.sock'] },
};
const devices = (args: string[]): string[] => args.filter((_, i) => args[i - 1] === '-device' && args[i] !== 'VGA');

describe('buildQemuArgs with host devices', () => {
  it('passes controllers through as vfio-pci booting first, the CD-ROM after them', () => {
    const args = buildQemuArgs({ ...base, hostDevices: [{ bdf: '0000:02:00.0', bootIndex: 1 }, { bdf: '0000:05:00.0', bootIndex: 2 }, { bdf: '0000:07:00.0' }] });
    expect(devices(args)).toEqual([
      'vfio-pci,host=0000:02:00.0,id=hostdev0,bootindex=1',
      'vfio-pci,host=0000:05:00.0,id=hostdev1,bootindex=2',
      'vfio-pci,host=0000:07:00.0,id=hostdev2',
      'ide-cd,id=cdrom0,drive=cd0,bus=ide.0,bootindex=3',
    ]);
  });

  it('numbers raw disks after the passed-through controllers', () => {
    const args = buildQemuArgs({ ...base, hostDevices: [{ bdf: '0000:02:00.0', bootIndex: 1 }], disks: [{ path: '/dev/sda', bus: 'virtio' }] });
    expect(devices(args)).toEqual([
      'vfio-pci,host=0000:02:00.0,id=hostdev0,bootindex=1',
      'ide-cd,id=cdrom0,drive=cd0,bus=ide.0,bootindex=3',
      'virtio-blk-pci,id=disk0-dev,drive=disk0,bootindex=2',
    ]);
  });

  it('refuses a host device that is not a BDF with ERR_BAD_REQUEST', () => {
    let code: string | undefined;
    try {
      buildQemuArgs({ ...base, hostDevices: [{ bdf: '0000:02:00.0,romfile=/etc/shadow' }] });
    } catch (err) {
      code = isXepaError(err) ? err.code : 'other';
    }
    expect(code).toBe('ERR_BAD_REQUEST');
  });
});
