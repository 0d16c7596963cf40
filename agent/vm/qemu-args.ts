import { XepaError } from '../protocol/index.js';
import { answerCdroms, fidelityArgs, fidelityProblems } from './fidelity-args.js';
import type { VmDisk, VmFirmware, VmSpec } from './vm-spec.js';

// The q35 machine's built-in AHCI controller has six ports: ide.0 .. ide.5.
const AHCI_PORTS = 6;

// Escapes a value for QEMU's option syntax, where ',' separates keys and ',,' is a literal comma.
export function escapeQemuOpt(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * Builds QEMU's argument list for a VM (DESIGN §3). Pure: no I/O, same spec, same list.
 * Throws ERR_BAD_REQUEST for a spec QEMU would refuse or misread.
 */
export function buildQemuArgs(spec: VmSpec): string[] {
  checkSpec(spec);
  const e = escapeQemuOpt;
  const secure = spec.firmware.mode === 'uefi' && 'codePath' in spec.firmware && spec.firmware.secureBoot === true;
  const cpuModel = spec.cpuModel ?? (spec.accel === 'tcg' ? 'max' : undefined);
  const args: string[] = [
    '-name', `guest=${e(spec.name)},debug-threads=on`,
    '-machine', secure ? 'q35,smm=on' : 'q35',
    '-accel', spec.accel === 'kvm' ? 'kvm' : 'tcg,thread=multi',
    ...(cpuModel ? ['-cpu', e(cpuModel)] : []),
    '-m', String(spec.memoryMiB),
    '-smp', String(spec.cpus),
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-vnc', `unix:${e(spec.sockets.vnc)}`,
    '-device', 'VGA',
    '-chardev', `socket,id=qmp,path=${e(spec.sockets.qmp)},server=on,wait=off`,
    '-mon', 'chardev=qmp,mode=control',
  ];
  spec.sockets.serial.forEach((path, i) => {
    const log = spec.serialLogs?.[i];
    const logOpts = log ? `,logfile=${e(log)},logappend=on` : '';
    args.push('-chardev', `socket,id=serial${i},path=${e(path)},server=on,wait=off${logOpts}`);
    args.push('-serial', `chardev:serial${i}`);
  });
  args.push(...firmwareArgs(spec.firmware));

  const cdFirst = spec.bootOrder === 'cdrom-first';
  // Passed-through controllers boot first (their bootIndex as given; shifted by one when the CD-ROM leads).
  const hostBoot = Math.max(0, ...(spec.hostDevices ?? []).map((h) => h.bootIndex ?? 0));
  // The mirrored topology and placed devices come before any device QEMU places itself (it takes free slots).
  for (const c of spec.pciTopology ?? []) args.push('-device', c);
  (spec.hostDevices ?? []).forEach((h, i) => {
    const boot = h.bootIndex === undefined ? '' : `,bootindex=${h.bootIndex + (cdFirst && spec.cdrom ? 1 : 0)}`;
    const at = h.guest ? `,bus=${h.guest.bus},addr=${h.guest.addr}${h.guest.multifunction ? ',multifunction=on' : ''}` : '';
    args.push('-device', `vfio-pci,host=${h.bdf},id=hostdev${i}${at}${boot}`);
  });
  args.push(...fidelityArgs(spec)); // SMBIOS, TPM, emulated NICs, USB answer media (docs/fidelity.md)
  const diskBase = (cdFirst && spec.cdrom ? 2 : 1) + hostBoot;
  const ports = new AhciPorts();
  if (spec.cdrom) {
    const bus = ports.next(args);
    args.push('-drive', `if=none,id=cd0,file=${e(spec.cdrom)},format=raw,media=cdrom,readonly=on`);
    args.push('-device', `ide-cd,id=cdrom0,drive=cd0,bus=${bus},bootindex=${cdFirst ? 1 : hostBoot + spec.disks.length + 1}`);
  }
  spec.disks.forEach((disk, i) => {
    args.push(...diskArgs(disk, i, diskBase + i, ports, args));
  });
  answerCdroms(spec).forEach((path, i) => {
    // Answer media sit after the disks and outside the boot order: the installer finds them by label.
    const bus = ports.next(args);
    args.push('-drive', `if=none,id=answer${i},file=${e(path)},format=raw,media=cdrom,readonly=on`);
    args.push('-device', `ide-cd,id=answercd${i},drive=answer${i},bus=${bus}`);
  });
  if (spec.onReboot === 'shutdown') args.push('-action', 'reboot=shutdown');
  if (spec.pidFile !== undefined) args.push('-pidfile', spec.pidFile);
  args.push(...(spec.extraArgs ?? []));
  return args;
}

function firmwareArgs(fw: VmFirmware): string[] {
  const e = escapeQemuOpt;
  if (fw.mode === 'bios') return [];
  if ('imagePath' in fw) return ['-drive', `if=pflash,format=raw,unit=0,file=${e(fw.imagePath)}`];
  return [
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${e(fw.codePath)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${e(fw.varsPath)}`,
    // Secure Boot builds keep their variables in SMM-protected flash (QEMU docs, OVMF README).
    ...(fw.secureBoot ? ['-global', 'driver=cfi.pflash01,property=secure,value=on'] : []),
  ];
}

function diskArgs(disk: VmDisk, i: number, bootindex: number, ports: AhciPorts, args: string[]): string[] {
  const e = escapeQemuOpt;
  const id = `disk${i}`;
  const drive = ['-drive', `if=none,id=${id},file=${e(disk.path)},format=raw,cache=${disk.cache ?? 'none'},discard=unmap`];
  const serial = disk.serial === undefined ? '' : `,serial=${e(disk.serial)}`;
  switch (disk.bus) {
    case 'virtio':
      return [...drive, '-device', `virtio-blk-pci,id=${id}-dev,drive=${id}${serial},bootindex=${bootindex}`];
    case 'sata':
      return [...drive, '-device', `ide-hd,id=${id}-dev,drive=${id},bus=${ports.next(args)}${serial},bootindex=${bootindex}`];
    case 'nvme': {
      // An NVMe controller must have a serial; invent a stable one when the spec has none.
      const nvmeSerial = disk.serial === undefined ? `,serial=XEPA${String(i).padStart(4, '0')}` : serial;
      return [...drive, '-device', `nvme,id=${id}-dev,drive=${id}${nvmeSerial},bootindex=${bootindex}`];
    }
  }
}

// Hands out SATA ports: the built-in AHCI first, then extra AHCI controllers (six ports each) as needed.
class AhciPorts {
  private used = 0;

  next(args: string[]): string {
    const controller = Math.floor(this.used / AHCI_PORTS);
    const port = this.used % AHCI_PORTS;
    this.used++;
    if (controller === 0) return `ide.${port}`;
    if (port === 0) args.push('-device', `ahci,id=sata${controller}`);
    return `sata${controller}.${port}`;
  }
}

function checkSpec(spec: VmSpec): void {
  const bad = (why: string): never => {
    throw new XepaError('ERR_BAD_REQUEST', `invalid VM spec ${JSON.stringify(spec.name)}: ${why}`);
  };
  if (spec.name.trim() === '') bad('empty name');
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 16) bad(`memoryMiB ${spec.memoryMiB} is not an integer >= 16`);
  if (!Number.isInteger(spec.cpus) || spec.cpus < 1) bad(`cpus ${spec.cpus} is not an integer >= 1`);
  const paths = [spec.sockets.qmp, spec.sockets.vnc, ...spec.sockets.serial, ...spec.disks.map((d) => d.path)];
  if (spec.cdrom !== undefined) paths.push(spec.cdrom);
  if (spec.pidFile !== undefined) paths.push(spec.pidFile);
  for (const h of spec.hostDevices ?? []) {
    if (!/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(h.bdf)) bad(`host device ${JSON.stringify(h.bdf)} is not a BDF like 0000:01:00.0`);
    if (h.bootIndex !== undefined && (!Number.isInteger(h.bootIndex) || h.bootIndex < 1)) bad(`host device ${h.bdf} has bootIndex ${h.bootIndex}`);
  }
  const fidelity = fidelityProblems(spec);
  if (fidelity) bad(fidelity);
  for (const p of paths) {
    if (p === '') bad('an empty path');
    // A NUL or newline would cut or split QEMU's option string; no sane path has one.
    if (/[\0\n\r]/.test(p)) bad(`path ${JSON.stringify(p)} contains a control character`);
  }
}
