// BIOS boot (SeaBIOS, QEMU's default firmware).
export interface BiosFirmware {
  mode: 'bios';
}

// OVMF as two pflash drives: the code read-only, the variables a per-job writable copy.
export interface UefiSplitFirmware {
  mode: 'uefi';
  codePath: string;
  varsPath: string;
  /** Secure Boot capable code (needs SMM, which buildQemuArgs then enables). */
  secureBoot?: boolean;
}

// OVMF as one unified image (code and variables in one file, e.g. Alpine's bios.bin): a per-job writable copy.
export interface UefiUnifiedFirmware {
  mode: 'uefi';
  imagePath: string;
}

// The guest firmware: SeaBIOS, or OVMF in split or unified form.
export type VmFirmware = BiosFirmware | UefiSplitFirmware | UefiUnifiedFirmware;

// One disk given to the guest: a raw file or block device on the chosen bus.
export interface VmDisk {
  path: string;
  /** Shown to the guest; QEMU keeps at most 20 characters (virtio-blk, ATA and NVMe all limit it). */
  serial?: string;
  bus: 'virtio' | 'sata' | 'nvme';
  /**
   * Host page cache: 'none' (O_DIRECT, the default: writes reach the real disk, nothing is kept in the
   * rescue system's RAM) or 'writeback' for files on filesystems without O_DIRECT (tmpfs before Linux 6.6).
   */
  cache?: 'none' | 'writeback';
}

// Everything needed to start one VM; buildQemuArgs turns it into QEMU's argument list.
export interface VmSpec {
  name: string;
  accel: 'kvm' | 'tcg';
  memoryMiB: number;
  cpus: number;
  /** CPU model; default: QEMU's default under KVM, 'max' under TCG (x86-64-v2+ guests boot). */
  cpuModel?: string;
  firmware: VmFirmware;
  /** ISO path, attached as a SATA (AHCI) CD-ROM. */
  cdrom?: string;
  disks: VmDisk[];
  /** Unix sockets, all created by QEMU as servers (VNC, QMP, COM1 and COM2). */
  sockets: { qmp: string; vnc: string; serial: [string, string] };
  /** Files that keep each serial port's output even with nobody attached (appended). */
  serialLogs?: [string, string];
  bootOrder?: 'disk-first' | 'cdrom-first';
  /** Appended last: QEMU lets a later option override an earlier one. */
  extraArgs?: string[];
}
