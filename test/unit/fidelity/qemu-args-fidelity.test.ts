// The QEMU arguments of every fidelity option, pinned (docs/fidelity.md).
import { describe, expect, it } from 'vitest';
import { buildQemuArgs, type VmSpec } from '../../../agent/vm/index.js';
import { codeOf } from '../../support/error-code.js';

const base: VmSpec = {
  name: 'job1',
  accel: 'tcg',
  memoryMiB: 1024,
  cpus: 1,
  firmware: { mode: 'bios' },
  disks: [],
  sockets: { qmp: '/j/qmp.sock', vnc: '/j/vnc.sock', serial: ['/j/s0.sock', '/j/s1.sock'] },
};

// The options after the serial ports and the firmware (where fidelity options start).
const tail = (spec: VmSpec): string[] => {
  const args = buildQemuArgs(spec);
  return args.slice(args.lastIndexOf('chardev:serial1') + 1);
};


describe('fidelity options in the QEMU arguments', () => {
  it('gives the host SMBIOS structures one file each, and the 64-bit entry point when the host has one', () => {
    expect(tail({ ...base, smbios: { files: ['/j/smbios/00-type0.bin', '/j/smbios/01-type1.bin'], entryPoint: '64' } })).toEqual([
      '-machine', 'smbios-entry-point-type=64',
      '-smbios', 'file=/j/smbios/00-type0.bin',
      '-smbios', 'file=/j/smbios/01-type1.bin',
    ]);
  });

  it('passes SMBIOS field values after the files and keeps the 32-bit entry point by default', () => {
    expect(tail({ ...base, smbios: { files: [], fields: ['type=1,manufacturer=ACME,,Inc,serial=S1'] } })).toEqual([
      '-smbios', 'type=1,manufacturer=ACME,,Inc,serial=S1',
    ]);
  });

  it('adds a TPM 2.0 on the CRB interface backed by the job\'s swtpm socket', () => {
    expect(tail({ ...base, tpm: { socket: '/j/swtpm.sock' } })).toEqual([
      '-chardev', 'socket,id=chrtpm,path=/j/swtpm.sock',
      '-tpmdev', 'emulator,id=tpm0,chardev=chrtpm',
      '-device', 'tpm-crb,tpmdev=tpm0',
    ]);
  });

  it('puts the emulated NIC on user networking with the server\'s MAC, and restricts it when asked', () => {
    expect(tail({ ...base, nics: [{ model: 'e1000e', mac: 'a0:36:9f:00:00:01' }, { model: 'virtio-net-pci', restrict: true }] })).toEqual([
      '-netdev', 'user,id=net0',
      '-device', 'e1000e,id=nic0,netdev=net0,mac=a0:36:9f:00:00:01',
      '-netdev', 'user,id=net1,restrict=on',
      '-device', 'virtio-net-pci,id=nic1,netdev=net1',
    ]);
  });

  it('attaches an ISO answer medium as a read-only SATA CD-ROM after the disks, outside the boot order', () => {
    const args = tail({ ...base, cdrom: '/iso/inst.iso', disks: [{ path: '/dev/sda', bus: 'sata' }], answerMedia: [{ path: '/j/answer.iso', format: 'iso9660' }] });
    expect(args).toEqual([
      '-drive', 'if=none,id=cd0,file=/iso/inst.iso,format=raw,media=cdrom,readonly=on',
      '-device', 'ide-cd,id=cdrom0,drive=cd0,bus=ide.0,bootindex=2',
      '-drive', 'if=none,id=disk0,file=/dev/sda,format=raw,cache=none,discard=unmap',
      '-device', 'ide-hd,id=disk0-dev,drive=disk0,bus=ide.1,bootindex=1',
      '-drive', 'if=none,id=answer0,file=/j/answer.iso,format=raw,media=cdrom,readonly=on',
      '-device', 'ide-cd,id=answercd0,drive=answer0,bus=ide.2',
    ]);
  });

  it('attaches a FAT answer medium as a read-only removable USB stick', () => {
    expect(tail({ ...base, answerMedia: [{ path: '/j/answer.img', format: 'vfat' }] })).toEqual([
      '-device', 'qemu-xhci,id=xhci',
      '-drive', 'if=none,id=answerusb0,file=/j/answer.img,format=raw,readonly=on',
      '-device', 'usb-storage,bus=xhci.0,drive=answerusb0,removable=on',
    ]);
  });

  it('uses the CPU model the plan chose, and max under TCG when it chose none', () => {
    expect(buildQemuArgs({ ...base, accel: 'kvm', cpuModel: 'host' })).toContain('host');
    const tcg = buildQemuArgs(base);
    expect(tcg[tcg.indexOf('-cpu') + 1]).toBe('max');
  });

  it('turns on SMM and secure flash for an OVMF Secure Boot build', () => {
    const args = buildQemuArgs({ ...base, firmware: { mode: 'uefi', codePath: '/usr/share/OVMF/OVMF_CODE_4M.ms.fd', varsPath: '/j/OVMF_VARS.fd', secureBoot: true } });
    expect(args.slice(args.indexOf('-machine'), args.indexOf('-machine') + 2)).toEqual(['-machine', 'q35,smm=on']);
    expect(args).toContain('driver=cfi.pflash01,property=secure,value=on');
  });

  it('refuses a MAC that is not six hex pairs', () => {
    expect(codeOf(() => buildQemuArgs({ ...base, nics: [{ model: 'e1000e', mac: 'a0:36:9f:00:00:01,x=1' }] }))).toBe('ERR_BAD_REQUEST');
  });

  it('refuses SMBIOS fields that are not type=N,key=value', () => {
    expect(codeOf(() => buildQemuArgs({ ...base, smbios: { files: [], fields: ['file=/etc/shadow'] } }))).toBe('ERR_BAD_REQUEST');
  });

  it('refuses an SMBIOS file path with a newline', () => {
    expect(codeOf(() => buildQemuArgs({ ...base, smbios: { files: ['/j/a\nb'] } }))).toBe('ERR_BAD_REQUEST');
  });
});

describe('passed-through functions at mirrored addresses', () => {
  it('creates the topology first, then each vfio-pci function on its mirrored bus and slot, then QEMU-placed devices', () => {
    const args = tail({
      ...base,
      pciTopology: ['pcie-root-port,id=xrp1,bus=pcie.0,chassis=1,addr=02.0'],
      hostDevices: [
        { bdf: '0000:01:00.0', bootIndex: 1, guest: { bus: 'xrp1', addr: '0x00.0', multifunction: false } },
        { bdf: '0000:00:1f.6', guest: { bus: 'pcie.0', addr: '0x1f.6', multifunction: false } },
      ],
      nics: [{ model: 'e1000e' }],
    });
    expect(args.slice(0, 10)).toEqual([
      '-device', 'pcie-root-port,id=xrp1,bus=pcie.0,chassis=1,addr=02.0',
      '-device', 'vfio-pci,host=0000:01:00.0,id=hostdev0,bus=xrp1,addr=0x00.0,bootindex=1',
      '-device', 'vfio-pci,host=0000:00:1f.6,id=hostdev1,bus=pcie.0,addr=0x1f.6',
      '-netdev', 'user,id=net0',
      '-device', 'e1000e,id=nic0,netdev=net0',
    ]);
  });
});
