// Names of common PCI classes as lspci (pci.ids) spells them, by class+subclass, with a few prog-if refinements.
const BY_SUBCLASS: Record<string, string> = {
  '0100': 'SCSI storage controller',
  '0101': 'IDE interface',
  '0104': 'RAID bus controller',
  '0105': 'ATA controller',
  '0106': 'SATA controller',
  '0107': 'Serial Attached SCSI controller',
  '0108': 'Non-Volatile memory controller',
  '0180': 'Mass storage controller',
  '0200': 'Ethernet controller',
  '0207': 'Infiniband controller',
  '0280': 'Network controller',
  '0300': 'VGA compatible controller',
  '0302': '3D controller',
  '0380': 'Display controller',
  '0403': 'Audio device',
  '0500': 'RAM memory',
  '0580': 'Memory controller',
  '0600': 'Host bridge',
  '0601': 'ISA bridge',
  '0604': 'PCI bridge',
  '0680': 'Bridge',
  '0700': 'Serial controller',
  '0880': 'System peripheral',
  '0b40': 'Co-processor',
  '0c03': 'USB controller',
  '0c04': 'Fibre Channel',
  '0c05': 'SMBus',
  '0c07': 'IPMI Interface',
  '1080': 'Encryption controller',
  '1200': 'Processing accelerators',
  '1300': 'Non-Essential Instrumentation',
};

const BY_PROG_IF: Record<string, string> = {
  '010601': 'SATA controller (AHCI)',
  '010802': 'NVMe controller',
  '0c0300': 'USB controller (UHCI)',
  '0c0320': 'USB controller (EHCI)',
  '0c0330': 'USB controller (xHCI)',
};

const BY_CLASS: Record<string, string> = {
  '01': 'Mass storage controller',
  '02': 'Network controller',
  '03': 'Display controller',
  '04': 'Multimedia controller',
  '05': 'Memory controller',
  '06': 'Bridge',
  '07': 'Communication controller',
  '08': 'Generic system peripheral',
  '0c': 'Serial bus controller',
  '12': 'Processing accelerators',
  ff: 'Unassigned class',
};

// A human name for a PCI class code as read from sysfs (`0x010802` -> "NVMe controller").
export function pciClassName(classCode: string): string {
  const hex = classCode.toLowerCase().replace(/^0x/, '').padStart(6, '0');
  return BY_PROG_IF[hex] ?? BY_SUBCLASS[hex.slice(0, 4)] ?? BY_CLASS[hex.slice(0, 2)] ?? `Class ${hex.slice(0, 4)}`;
}
