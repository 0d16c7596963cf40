import { describe, expect, it } from 'vitest';
import { buildQemuArgs, escapeQemuOpt, type VmSpec } from '../../../agent/vm/index.js';
import { codeOf } from '../../support/error-code.js';

const base: VmSpec = {
  name: 'job1',
  accel: 'kvm',
  memoryMiB: 2048,
  cpus: 2,
  firmware: { mode: 'bios' },
  disks: [],
  sockets: { qmp: '/run/xepa/j/qmp.sock', vnc: '/run/xepa/j/vnc.sock', serial: ['/run/xepa/j/s0.sock', '/run/xepa/j/s1.sock'] },
};

const COMMON_HEAD = [
  '-name', 'guest=job1,debug-threads=on',
  '-machine', 'q35',
];
const COMMON_TAIL = [
  '-m', '2048', '-smp', '2',
  '-nodefaults', '-no-user-config', '-display', 'none',
  '-vnc', 'unix:/run/xepa/j/vnc.sock',
  '-device', 'VGA',
  '-chardev', 'socket,id=qmp,path=/run/xepa/j/qmp.sock,server=on,wait=off',
  '-mon', 'chardev=qmp,mode=control',
];


describe('buildQemuArgs', () => {
  it('builds a BIOS VM under KVM with the default CPU, an ISO and one virtio disk, disk first', () => {
    const args = buildQemuArgs({
      ...base,
      cdrom: '/run/xepa/j/os.iso',
      disks: [{ path: '/dev/nvme0n1', serial: 'S4EVNX0N', bus: 'virtio' }],
      serialLogs: ['/run/xepa/j/s0.log', '/run/xepa/j/s1.log'],
    });
    expect(args).toEqual([
      ...COMMON_HEAD,
      '-accel', 'kvm',
      ...COMMON_TAIL,
      '-chardev', 'socket,id=serial0,path=/run/xepa/j/s0.sock,server=on,wait=off,logfile=/run/xepa/j/s0.log,logappend=on',
      '-serial', 'chardev:serial0',
      '-chardev', 'socket,id=serial1,path=/run/xepa/j/s1.sock,server=on,wait=off,logfile=/run/xepa/j/s1.log,logappend=on',
      '-serial', 'chardev:serial1',
      '-drive', 'if=none,id=cd0,file=/run/xepa/j/os.iso,format=raw,media=cdrom,readonly=on',
      '-device', 'ide-cd,id=cdrom0,drive=cd0,bus=ide.0,bootindex=2',
      '-drive', 'if=none,id=disk0,file=/dev/nvme0n1,format=raw,cache=none,discard=unmap',
      '-device', 'virtio-blk-pci,id=disk0-dev,drive=disk0,serial=S4EVNX0N,bootindex=1',
    ]);
  });

  it('builds a UEFI VM under TCG with multi-threaded TCG, the max CPU model and two pflash drives', () => {
    const args = buildQemuArgs({
      ...base,
      accel: 'tcg',
      firmware: { mode: 'uefi', codePath: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsPath: '/run/xepa/j/OVMF_VARS.fd' },
    });
    expect(args).toEqual([
      ...COMMON_HEAD,
      '-accel', 'tcg,thread=multi',
      '-cpu', 'max',
      ...COMMON_TAIL,
      '-chardev', 'socket,id=serial0,path=/run/xepa/j/s0.sock,server=on,wait=off',
      '-serial', 'chardev:serial0',
      '-chardev', 'socket,id=serial1,path=/run/xepa/j/s1.sock,server=on,wait=off',
      '-serial', 'chardev:serial1',
      '-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      '-drive', 'if=pflash,format=raw,unit=1,file=/run/xepa/j/OVMF_VARS.fd',
    ]);
  });

  it('enables SMM and secure pflash for Secure Boot firmware', () => {
    const args = buildQemuArgs({
      ...base,
      firmware: { mode: 'uefi', codePath: '/c.fd', varsPath: '/v.fd', secureBoot: true },
    });
    expect(args.slice(2, 4)).toEqual(['-machine', 'q35,smm=on']);
    expect(args.join(' ')).toContain('-global driver=cfi.pflash01,property=secure,value=on');
  });

  it('attaches a unified OVMF image as one writable pflash drive', () => {
    const args = buildQemuArgs({ ...base, firmware: { mode: 'uefi', imagePath: '/run/xepa/j/OVMF.fd' } });
    expect(args.filter((a) => a.startsWith('if=pflash'))).toEqual(['if=pflash,format=raw,unit=0,file=/run/xepa/j/OVMF.fd']);
  });

  it('puts the CD-ROM first in boot order when asked', () => {
    const args = buildQemuArgs({
      ...base,
      cdrom: '/i.iso',
      bootOrder: 'cdrom-first',
      disks: [{ path: '/dev/sda', bus: 'virtio' }, { path: '/dev/sdb', bus: 'virtio' }],
    });
    const devices = args.filter((_, i) => args[i - 1] === '-device' && !args[i]!.startsWith('VGA'));
    expect(devices).toEqual([
      'ide-cd,id=cdrom0,drive=cd0,bus=ide.0,bootindex=1',
      'virtio-blk-pci,id=disk0-dev,drive=disk0,bootindex=2',
      'virtio-blk-pci,id=disk1-dev,drive=disk1,bootindex=3',
    ]);
  });

  it('places SATA disks after the CD-ROM on the built-in AHCI and adds a controller past six ports', () => {
    const disks = Array.from({ length: 7 }, (_, i) => ({ path: `/dev/sd${'abcdefg'[i]}`, serial: `SN${i}`, bus: 'sata' as const }));
    const args = buildQemuArgs({ ...base, cdrom: '/i.iso', disks });
    const devices = args.filter((_, i) => args[i - 1] === '-device' && args[i] !== 'VGA');
    expect(devices).toEqual([
      'ide-cd,id=cdrom0,drive=cd0,bus=ide.0,bootindex=8',
      'ide-hd,id=disk0-dev,drive=disk0,bus=ide.1,serial=SN0,bootindex=1',
      'ide-hd,id=disk1-dev,drive=disk1,bus=ide.2,serial=SN1,bootindex=2',
      'ide-hd,id=disk2-dev,drive=disk2,bus=ide.3,serial=SN2,bootindex=3',
      'ide-hd,id=disk3-dev,drive=disk3,bus=ide.4,serial=SN3,bootindex=4',
      'ide-hd,id=disk4-dev,drive=disk4,bus=ide.5,serial=SN4,bootindex=5',
      'ahci,id=sata1',
      'ide-hd,id=disk5-dev,drive=disk5,bus=sata1.0,serial=SN5,bootindex=6',
      'ide-hd,id=disk6-dev,drive=disk6,bus=sata1.1,serial=SN6,bootindex=7',
    ]);
  });

  it('gives every NVMe disk its own controller with a serial, inventing one when the spec has none', () => {
    const args = buildQemuArgs({
      ...base,
      disks: [{ path: '/dev/nvme0n1', serial: 'PHLJ9', bus: 'nvme' }, { path: '/dev/nvme1n1', bus: 'nvme' }],
    });
    const devices = args.filter((_, i) => args[i - 1] === '-device' && args[i] !== 'VGA');
    expect(devices).toEqual([
      'nvme,id=disk0-dev,drive=disk0,serial=PHLJ9,bootindex=1',
      'nvme,id=disk1-dev,drive=disk1,serial=XEPA0001,bootindex=2',
    ]);
  });

  it('uses writeback caching for a disk that asks for it', () => {
    const args = buildQemuArgs({ ...base, disks: [{ path: '/dev/shm/d.raw', bus: 'virtio', cache: 'writeback' }] });
    expect(args).toContain('if=none,id=disk0,file=/dev/shm/d.raw,format=raw,cache=writeback,discard=unmap');
  });

  it('escapes commas in every value that goes into a QEMU option string', () => {
    const d = '/run/xepa/a,b';
    const args = buildQemuArgs({
      ...base,
      name: 'job,1',
      cpuModel: 'Skylake-Server,-hle',
      firmware: { mode: 'uefi', codePath: `${d}/code.fd`, varsPath: `${d}/vars.fd` },
      cdrom: `${d}/os.iso`,
      disks: [{ path: `${d}/disk.raw`, serial: 'S,1', bus: 'sata' }],
      sockets: { qmp: `${d}/qmp.sock`, vnc: `${d}/vnc.sock`, serial: [`${d}/s0.sock`, `${d}/s1.sock`] },
      serialLogs: [`${d}/s0.log`, `${d}/s1.log`],
    });
    expect(args.join(' ')).not.toContain('a,b'); // every comma of the path doubled, everywhere
    expect(args).toContain('guest=job,,1,debug-threads=on');
    expect(args).toContain('Skylake-Server,,-hle');
    expect(args).toContain('unix:/run/xepa/a,,b/vnc.sock');
    expect(args).toContain('socket,id=qmp,path=/run/xepa/a,,b/qmp.sock,server=on,wait=off');
    expect(args).toContain('socket,id=serial1,path=/run/xepa/a,,b/s1.sock,server=on,wait=off,logfile=/run/xepa/a,,b/s1.log,logappend=on');
    expect(args).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/run/xepa/a,,b/code.fd');
    expect(args).toContain('if=pflash,format=raw,unit=1,file=/run/xepa/a,,b/vars.fd');
    expect(args).toContain('if=none,id=cd0,file=/run/xepa/a,,b/os.iso,format=raw,media=cdrom,readonly=on');
    expect(args).toContain('if=none,id=disk0,file=/run/xepa/a,,b/disk.raw,format=raw,cache=none,discard=unmap');
    expect(args).toContain('ide-hd,id=disk0-dev,drive=disk0,bus=ide.1,serial=S,,1,bootindex=1');
  });

  it('appends extra arguments last so they can override defaults', () => {
    const args = buildQemuArgs({ ...base, extraArgs: ['-cpu', 'host'] });
    expect(args.slice(-2)).toEqual(['-cpu', 'host']);
  });

  it('is pure: the same spec gives the same list', () => {
    const spec: VmSpec = { ...base, cdrom: '/i.iso', disks: [{ path: '/dev/sda', bus: 'sata' }] };
    expect(buildQemuArgs(spec)).toEqual(buildQemuArgs(spec));
  });

  it('refuses a spec QEMU would refuse or misread with ERR_BAD_REQUEST', () => {
    expect(codeOf(() => buildQemuArgs({ ...base, memoryMiB: 0 }))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => buildQemuArgs({ ...base, cpus: 1.5 }))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => buildQemuArgs({ ...base, name: ' ' }))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => buildQemuArgs({ ...base, cdrom: '/a\nb.iso' }))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => buildQemuArgs({ ...base, disks: [{ path: '', bus: 'virtio' }] }))).toBe('ERR_BAD_REQUEST');
  });
});

describe('escapeQemuOpt', () => {
  it('doubles every comma and leaves the rest alone', () => {
    expect(escapeQemuOpt('a,b,,c=d')).toBe('a,,b,,,,c=d');
  });
});
