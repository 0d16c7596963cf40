import type { Inventory } from '../protocol/inventory.js';
import { RootedFs } from './rooted-fs.js';
import type { Sysfs } from './sysfs.js';

// UEFI global variable GUID (UEFI spec 2.x, EFI_GLOBAL_VARIABLE).
const SECURE_BOOT_VAR = 'SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';

// What the caller learned about KVM by trying it (opening /dev/kvm, KVM_GET_API_VERSION ...).
export interface KvmProbe {
  usable?: boolean;
  reason: string;
}

// Firmware mode from /sys/firmware/efi; Secure Boot from the last byte of the SecureBoot variable
// (efivarfs: 4 attribute bytes then the value; the legacy sysfs `vars/.../data` holds the value alone).
export async function readFirmware(sysfs: Sysfs): Promise<Inventory['firmware']> {
  if (!(await sysfs.exists('firmware/efi'))) return { mode: 'bios' };
  const bytes =
    (await sysfs.readBytes(`firmware/efi/efivars/${SECURE_BOOT_VAR}`)) ??
    (await sysfs.readBytes(`firmware/efi/vars/${SECURE_BOOT_VAR}/data`));
  if (bytes === undefined || bytes.length === 0) return { mode: 'uefi' };
  return { mode: 'uefi', secureBoot: bytes[bytes.length - 1] === 1 };
}

// KVM: the device node's presence under devRoot; usability and its reason come from the caller's probe.
export async function readKvm(devRoot: string, probe: KvmProbe | undefined): Promise<Inventory['kvm']> {
  const device = await new RootedFs(devRoot).exists('kvm');
  if (probe) return probe.usable === undefined ? { device, reason: probe.reason } : { device, usable: probe.usable, reason: probe.reason };
  return { device, reason: device ? `${devRoot}/kvm present (not probed)` : `${devRoot}/kvm missing` };
}
