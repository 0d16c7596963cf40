import { describe, expect, it } from 'vitest';
import { diskBootArgs, escapeQemuValue, isoBootArgs, kernelBootArgs } from '../../../controller/qemu/index.js';

// The value that follows `flag` in argv (every occurrence).
const valuesOf = (argv: string[], flag: string): string[] => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));

describe('check VM argv', () => {
  it('doubles commas in file names, as QEMU option syntax requires', () => {
    expect(escapeQemuValue('/tmp/a,b/disk.img')).toBe('/tmp/a,,b/disk.img');
    expect(diskBootArgs({ disk: '/tmp/a,b.img', memoryMiB: 256 })).toContain('file=/tmp/a,,b.img,format=raw,if=virtio,snapshot=on');
  });

  it('boots a disk alone as a snapshot, under TCG unless told, with serial on stdio and no network', () => {
    const argv = diskBootArgs({ disk: '/dev/loop7', memoryMiB: 384 });
    expect(valuesOf(argv, '-accel')).toEqual(['tcg']);
    expect(valuesOf(argv, '-m')).toEqual(['384']);
    expect(valuesOf(argv, '-serial')).toEqual(['stdio']);
    expect(valuesOf(argv, '-drive')).toEqual(['file=/dev/loop7,format=raw,if=virtio,snapshot=on']);
    expect(valuesOf(argv, '-boot')).toEqual(['c']);
    expect(argv).toContain('-nodefaults');
    expect(argv).toContain('-no-reboot');
    expect(argv.some((a) => a.startsWith('-net') || a === '-nic')).toBe(false);
    expect(valuesOf(diskBootArgs({ disk: 'd', memoryMiB: 1, accel: 'kvm' }), '-accel')).toEqual(['kvm']);
  });

  it('boots an ISO read-only from the CD-ROM, with the installer scratch disk writable', () => {
    const argv = isoBootArgs({ iso: '/s/os.iso', disk: '/s/scratch.img', memoryMiB: 512 });
    expect(valuesOf(argv, '-drive')).toEqual(['file=/s/scratch.img,format=raw,if=virtio', 'file=/s/os.iso,format=raw,media=cdrom,readonly=on']);
    expect(valuesOf(argv, '-boot')).toEqual(['d']);
    expect(valuesOf(isoBootArgs({ iso: '/s/os.iso', memoryMiB: 512 }), '-drive')).toEqual(['file=/s/os.iso,format=raw,media=cdrom,readonly=on']);
  });

  it('boots a kernel and initrd directly with the given command line', () => {
    const argv = kernelBootArgs({ kernel: '/k', initrd: '/i', append: 'console=ttyS0 panic=-1', memoryMiB: 256 });
    expect(valuesOf(argv, '-kernel')).toEqual(['/k']);
    expect(valuesOf(argv, '-initrd')).toEqual(['/i']);
    expect(valuesOf(argv, '-append')).toEqual(['console=ttyS0 panic=-1']);
    expect(argv).not.toContain('-drive');
  });
});
