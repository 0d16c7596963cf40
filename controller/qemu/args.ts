// QEMU argv for the controller's short-lived check VMs (pure): the demo's boot check and the updater's validation.
// Serial on stdio, no display, no network, no defaults; nothing is written but an installer's scratch disk.

/** The accelerator of a check VM. */
export type CheckAccel = 'tcg' | 'kvm';

// QEMU option syntax: a comma inside a value is written as two commas.
export function escapeQemuValue(value: string): string {
  return value.replace(/,/g, ',,');
}

// The common machine: q35, TCG unless told (a Linux guest hangs under this machine's paravirtual KVM:
// docs/lab-notes.md), serial on stdio, and QEMU exits instead of rebooting.
function machineArgs(memoryMiB: number, accel: CheckAccel = 'tcg'): string[] {
  return ['-accel', accel, '-machine', 'q35', '-m', String(memoryMiB), '-nodefaults', '-display', 'none', '-no-reboot', '-serial', 'stdio'];
}

// Boots a kernel and initrd directly (-kernel/-initrd/-append).
export function kernelBootArgs(o: { kernel: string; initrd: string; append: string; memoryMiB: number; accel?: CheckAccel }): string[] {
  return [...machineArgs(o.memoryMiB, o.accel), '-kernel', o.kernel, '-initrd', o.initrd, '-append', o.append];
}

// Boots an ISO from a CD-ROM (AHCI on q35), optionally with a writable scratch disk for an installer.
export function isoBootArgs(o: { iso: string; disk?: string; memoryMiB: number; accel?: CheckAccel }): string[] {
  const args = machineArgs(o.memoryMiB, o.accel);
  if (o.disk) args.push('-drive', `file=${escapeQemuValue(o.disk)},format=raw,if=virtio`);
  args.push('-drive', `file=${escapeQemuValue(o.iso)},format=raw,media=cdrom,readonly=on`, '-boot', 'd');
  return args;
}

// Boots a raw disk (image or block device) alone on virtio, as a snapshot: never written.
export function diskBootArgs(o: { disk: string; memoryMiB: number; accel?: CheckAccel }): string[] {
  return [...machineArgs(o.memoryMiB, o.accel), '-drive', `file=${escapeQemuValue(o.disk)},format=raw,if=virtio,snapshot=on`, '-boot', 'c'];
}
