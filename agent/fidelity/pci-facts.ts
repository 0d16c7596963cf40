import type { FidelityInputs } from './fidelity-plan.js';

// The slice of the PCI view (agent/pci) the preflight report reads.
export interface PciFactsView {
  iommu: { enabled: boolean; interruptRemapping: 'on' | 'off' | 'unknown' };
  devices: { bdf: string; className: string; resetMethods: string[] }[];
}

// IOMMU state and the reset methods of the devices the VM gets (passed through, or the disks' controllers). Pure.
export function pciFidelityFacts(view: PciFactsView, bdfs: string[]): Pick<FidelityInputs, 'iommu' | 'resetMethods'> {
  const wanted = new Set(bdfs);
  return {
    iommu: { enabled: view.iommu.enabled, interruptRemapping: view.iommu.interruptRemapping },
    resetMethods: view.devices.filter((d) => wanted.has(d.bdf)).map((d) => ({ bdf: d.bdf, className: d.className, methods: d.resetMethods })),
  };
}
