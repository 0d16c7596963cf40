// A PCI address in sysfs form: domain:bus:device.function, e.g. 0000:00:1f.2.
export const BDF_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

// The BDF of the PCI function closest to a device: the last dddd:bb:dd.f component of its sysfs path
// (devices/pci0000:00/0000:00:01.0/0000:01:00.0/nvme/nvme0/nvme0n1 -> 0000:01:00.0); undefined when not on PCI.
export function bdfFromPath(sysPath: string): string | undefined {
  const parts = sysPath.split('/').filter((p) => BDF_RE.test(p));
  return parts.length === 0 ? undefined : parts[parts.length - 1]!.toLowerCase();
}
