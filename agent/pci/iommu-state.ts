import type { Procfs, Sysfs } from '../host/index.js';
import type { IommuState } from './types.js';

// Interrupt remapping from /proc/interrupts: with remapping on, the kernel names the MSI and IO-APIC irq chips
// "IR-PCI-MSI", "IR-IO-APIC" (Intel and AMD alike); without it, "PCI-MSI", "IO-APIC". No dmesg needed.
export function interruptRemappingOf(interrupts: string | undefined): IommuState['interruptRemapping'] {
  if (interrupts === undefined) return 'unknown';
  if (/\bIR-(PCI-MSI|IO-APIC)/.test(interrupts)) return 'on';
  if (/\b(PCI-MSI|IO-APIC)/.test(interrupts)) return 'off';
  return 'unknown';
}

// The IOMMU: on when /sys/kernel/iommu_groups has groups; its kind from /sys/class/iommu (dmar* Intel VT-d,
// ivhd* AMD-Vi); interrupt remapping from /proc/interrupts; vfio's allow_unsafe_interrupts when loaded.
export async function readIommuState(sysfs: Sysfs, procfs: Procfs): Promise<IommuState> {
  const [groups, units, interrupts, unsafe] = await Promise.all([
    sysfs.list('kernel/iommu_groups'),
    sysfs.list('class/iommu'),
    procfs.readText('interrupts'),
    sysfs.readAttr('module/vfio_iommu_type1/parameters/allow_unsafe_interrupts'),
  ]);
  const state: IommuState = {
    enabled: groups.length > 0,
    groups: groups.length,
    interruptRemapping: interruptRemappingOf(interrupts),
    signals: [`/sys/kernel/iommu_groups: ${groups.length} group(s)`],
  };
  if (units.some((u) => u.startsWith('dmar'))) state.kind = 'intel';
  else if (units.some((u) => u.startsWith('ivhd'))) state.kind = 'amd';
  else if (units.length > 0) state.kind = 'other';
  if (units.length > 0) state.signals.push(`/sys/class/iommu: ${units.join(' ')}`);
  state.signals.push(
    interrupts === undefined ? '/proc/interrupts unreadable' : `/proc/interrupts: interrupt remapping ${state.interruptRemapping}`,
  );
  if (unsafe !== undefined) {
    state.unsafeInterrupts = unsafe === 'Y' || unsafe === '1';
    state.signals.push(`vfio_iommu_type1 allow_unsafe_interrupts=${unsafe}`);
  }
  return state;
}
