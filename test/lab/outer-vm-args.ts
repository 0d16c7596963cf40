// The QEMU command line of the lab's outer VM: a q35 "bare-metal server" with an Intel IOMMU (interrupt
// remapping on), NVMe disks with serials, a management NIC on restricted user networking and a virtio-serial
// control port. Pure: same spec, same argv (docs/lab-notes.md has the reference command line).

// One NVMe disk of the server, backed by a raw file on the host.
export interface OuterDisk {
  serial: string;
  file: string;
  // Put this disk's controller behind the pcie-pci-bridge that also holds the management NIC: one IOMMU group.
  sharesGroupWithNic?: boolean;
}

// A guest address:port whose TCP connections run `cmd` on the host (stdin/stdout are the connection).
export interface GuestForward {
  guestAddr: string; // in 10.0.2.0/24, e.g. 10.0.2.100
  guestPort: number;
  cmd: string; // no commas (QEMU's option syntax)
}

// Everything that decides the outer VM's argv.
export interface OuterVmSpec {
  kernel: string;
  initrd: string;
  memoryMiB: number;
  disks: readonly OuterDisk[];
  agentHostPort: number; // 127.0.0.1:agentHostPort on the host -> the agent's 7443 in the guest
  agentGuestPort?: number;
  controlSocket: string; // unix socket of the lab shell (virtio-serial port "xepa.lab")
  guestForwards?: readonly GuestForward[];
  extraAppend?: string;
  // Network boot instead of -kernel/-initrd: SeaBIOS runs the NIC's iPXE ROM, which takes its boot file from QEMU's
  // DHCP (an http:// URL, reached through a guest forward; restrict=on keeps everything else unreachable).
  netboot?: { bootfile: string };
  // UEFI instead of SeaBIOS: OVMF's code (read-only) and a VARS file of this server (its NVRAM, kept across boots).
  uefi?: UefiFirmware;
  // Boot from the disks by the firmware alone: no -kernel/-initrd/-append (the installed system's first boot).
  diskBoot?: boolean;
}

// OVMF as two pflash chips: the shared code and this server's own variable store.
export interface UefiFirmware {
  code: string;
  vars: string;
}

// Slots on the root complex (bus 00): the bridge's root port, the control port, the first disk, and the NIC when it
// is not behind the bridge (00:1e.0).
const ROOT_PORT_ADDR = 0x2;
const CONTROL_ADDR = 0x3;
const FIRST_DISK_ADDR = 0x4;
const NIC_ROOT_ADDR = 0x1e;

// Where each device lands: guest BDFs (bus 00 on the root complex; the bridge's bus is numbered by the guest).
export interface PciLayout {
  nic: { bus: 'root' | 'bridge'; slot: number };
  disks: { serial: string; bus: 'root' | 'bridge'; slot: number }[];
  bridge: boolean;
}

// Computes where the NIC and each disk go: shared-group disks and then the NIC behind one bridge.
export function pciLayout(spec: Pick<OuterVmSpec, 'disks'>): PciLayout {
  const bridge = spec.disks.some((d) => d.sharesGroupWithNic);
  let rootSlot = FIRST_DISK_ADDR;
  let bridgeSlot = 2; // slot 1 of the bridge is the NIC
  const disks = spec.disks.map((d) =>
    d.sharesGroupWithNic ? { serial: d.serial, bus: 'bridge' as const, slot: bridgeSlot++ } : { serial: d.serial, bus: 'root' as const, slot: rootSlot++ },
  );
  if (rootSlot > NIC_ROOT_ADDR || bridgeSlot > 0x1f) throw new Error(`too many lab disks (${spec.disks.length})`);
  return { nic: bridge ? { bus: 'bridge', slot: 1 } : { bus: 'root', slot: NIC_ROOT_ADDR }, disks, bridge };
}

// The outer VM's argv (without the binary). TCG only: the host's paravirtual KVM hangs Linux guests.
export function buildOuterVmArgs(spec: OuterVmSpec): string[] {
  const e = (v: string): string => v.replaceAll(',', ',,');
  const layout = pciLayout(spec);
  // no_timer_check: on a loaded host the TCG vCPU can miss the kernel's timer-IRQ test through the remapped
  // IO-APIC, which panics ("timer doesn't work through Interrupt-remapped IO-APIC"); the timer itself works.
  const append = ['console=ttyS0', 'intel_iommu=on', 'iommu=pt', 'no_timer_check', 'panic=-1', 'loglevel=4', spec.extraAppend ?? '']
    .join(' ').trim();
  const args = [
    '-accel', 'tcg,thread=multi',
    // qemu64 with SVM and nested paging: TCG emulates AMD-V, so the agent inside has a working /dev/kvm.
    '-cpu', 'qemu64,+svm,+npt',
    '-smp', '1', // one vCPU: no lost-IPI soft lockups, and faster on 2 host cores (docs/lab-notes.md)
    '-m', String(spec.memoryMiB),
    '-machine', 'q35,kernel-irqchip=split',
    '-device', 'intel-iommu,intremap=on,caching-mode=on',
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-serial', 'stdio',
    ...(spec.uefi
      ? ['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${e(spec.uefi.code)}`, '-drive', `if=pflash,format=raw,unit=1,file=${e(spec.uefi.vars)}`]
      : []),
    ...(spec.netboot ? ['-boot', 'n'] : spec.diskBoot ? [] : ['-kernel', spec.kernel, '-initrd', spec.initrd, '-append', append]),
    '-device', `virtio-serial-pci,id=vser,bus=pcie.0,addr=${hex(CONTROL_ADDR)}`,
    '-chardev', `socket,id=labctl,path=${e(spec.controlSocket)},server=on,wait=off`,
    '-device', 'virtserialport,bus=vser.0,chardev=labctl,name=xepa.lab',
  ];
  if (layout.bridge) {
    args.push('-device', `pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=${hex(ROOT_PORT_ADDR)}`);
    args.push('-device', 'pcie-pci-bridge,id=br1,bus=rp1');
  }
  const fwd = (spec.guestForwards ?? []).map((g) => {
    if (g.cmd.includes(',')) throw new Error(`guest forward command must not contain a comma: ${g.cmd}`);
    return `,guestfwd=tcp:${g.guestAddr}:${g.guestPort}-cmd:${g.cmd}`;
  });
  const boot = spec.netboot ? `,bootfile=${e(spec.netboot.bootfile)}` : '';
  const netdev = `user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:${spec.agentHostPort}-:${spec.agentGuestPort ?? 7443}${fwd.join('')}${boot}`;
  args.push('-netdev', netdev);
  // The NIC's option ROM (QEMU's iPXE) only when it boots from the network.
  args.push('-device', `virtio-net-pci,netdev=mgmt,${spec.netboot ? '' : 'romfile=,'}${placement(layout.nic)}`);
  spec.disks.forEach((d, i) => {
    const at = layout.disks[i]!;
    args.push('-drive', `file=${e(d.file)},if=none,id=nvm${i},format=raw,cache=writeback`);
    args.push('-device', `nvme,serial=${e(d.serial)},drive=nvm${i},${placement(at)}`);
  });
  return args;
}

function placement(at: { bus: 'root' | 'bridge'; slot: number }): string {
  return at.bus === 'root' ? `bus=pcie.0,addr=${hex(at.slot)}` : `bus=br1,addr=${hex(at.slot)}`;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
