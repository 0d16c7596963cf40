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

// A host PCI function handed to the guest as `-device vfio-pci,host=BDF`.
export interface VmHostDevice {
  bdf: string;
  bootIndex?: number;
  /** Guest placement mirroring the host's address (agent/fidelity mirrorPciLayout): QEMU bus id and slot.function. */
  guest?: { bus: string; addr: string; multifunction: boolean };
}

// SMBIOS for the guest (docs/fidelity.md): binary structures (the host's identity, one per file) and field values.
export interface VmSmbios {
  files: string[];
  /** `-smbios` option strings such as `type=1,manufacturer=X` (overrides; types without a file only). */
  fields?: string[];
  /** '64': the SMBIOS 3.x entry point (machine property smbios-entry-point-type=64), as _SM3_ hosts have. */
  entryPoint?: '32' | '64';
}

// An emulated NIC on QEMU user networking: NAT through the rescue system, never bridged onto its network.
export interface VmNic {
  model: 'e1000e' | 'virtio-net-pci';
  mac?: string;
  /** true: the guest reaches nothing outside (slirp restrict=on); default false (outbound NAT allowed). */
  restrict?: boolean;
  /** A guest-only endpoint: the guest's TCP connections to ANSWER_URL_HOST:80 reach this unix socket (slirp guestfwd). */
  answerSocket?: string;
}

// A read-only answer medium: ISO 9660 as a SATA CD-ROM, FAT as a USB stick (never an install target).
export interface VmAnswerMedium {
  path: string;
  format: 'iso9660' | 'vfat';
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
  /**
   * PCI functions passed through with vfio-pci (already bound to it). bootIndex is used as given (disk-first:
   * controllers 1..n); raw disks and the CD-ROM are numbered after the highest one.
   */
  hostDevices?: VmHostDevice[];
  /** `-device` option strings of the root ports and expander bridges the host devices' guest placements use. */
  pciTopology?: string[];
  /**
   * What a guest reboot does: 'reset' (QEMU's default: the guest boots again, from its disk first) or
   * 'shutdown' (`-action reboot=shutdown`: QEMU ends with SHUTDOWN reason guest-reset), for installers that
   * reboot at the end instead of powering off (install `vm.endOn: 'reboot'`).
   */
  onReboot?: 'reset' | 'shutdown';
  /** QEMU writes its pid here: an agent restarted after a crash finds (and stops) the VM it left behind. */
  pidFile?: string;
  /** Host identity in SMBIOS (fidelity). */
  smbios?: VmSmbios;
  /** A TPM 2.0 (CRB interface) backed by the swtpm listening on this control socket. */
  tpm?: { socket: string };
  /** Emulated NICs (the fallback when no NIC is passed through). */
  nics?: VmNic[];
  /** Answer media (unattended installs), after the install CD-ROM, never in the boot order. */
  answerMedia?: VmAnswerMedium[];
  /** The network namespace QEMU runs in (`ip netns exec`): the job's isolated guest network (agent/vm/guest-net.ts). */
  netns?: string;
  /** Appended last: QEMU lets a later option override an earlier one. */
  extraArgs?: string[];
}
