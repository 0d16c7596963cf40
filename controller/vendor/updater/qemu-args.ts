// QEMU argv for validation VMs (pure): serial on stdio, no display, no network, nothing written but a scratch disk.

// Common machine: q35, TCG unless told (a Linux guest hangs under this machine's paravirtual KVM: docs/lab-notes.md).
function machine(memoryMiB: number, accel: 'tcg' | 'kvm'): string[] {
  return ['-accel', accel, '-machine', 'q35', '-m', String(memoryMiB), '-nodefaults', '-display', 'none', '-no-reboot', '-serial', 'stdio'];
}

// QEMU option syntax: a comma inside a value is written twice.
const esc = (p: string): string => p.replace(/,/g, ',,');

// Boots a kernel and initrd directly (-kernel/-initrd/-append).
export function kernelBootArgs(o: { kernel: string; initrd: string; append: string; memoryMiB: number; accel?: 'tcg' | 'kvm' }): string[] {
  return [...machine(o.memoryMiB, o.accel ?? 'tcg'), '-kernel', o.kernel, '-initrd', o.initrd, '-append', o.append];
}

// Boots an ISO from a CD-ROM (AHCI on q35), optionally with a writable scratch disk for an installer.
export function isoBootArgs(o: { iso: string; disk?: string; memoryMiB: number; accel?: 'tcg' | 'kvm' }): string[] {
  const args = [...machine(o.memoryMiB, o.accel ?? 'tcg')];
  if (o.disk) args.push('-drive', `file=${esc(o.disk)},format=raw,if=virtio`);
  args.push('-drive', `file=${esc(o.iso)},format=raw,media=cdrom,readonly=on`, '-boot', 'd');
  return args;
}

// Boots a disk alone, as a snapshot (never written).
export function diskBootArgs(o: { disk: string; memoryMiB: number; accel?: 'tcg' | 'kvm' }): string[] {
  return [...machine(o.memoryMiB, o.accel ?? 'tcg'), '-drive', `file=${esc(o.disk)},format=raw,if=virtio,snapshot=on`, '-boot', 'c'];
}
