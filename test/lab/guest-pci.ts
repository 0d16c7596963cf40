// Looks at the outer VM's PCI state straight from its sysfs through the lab shell: an observer independent of the
// agent, so the lab tests can check what the agent claims (plan, inventory) against what the kernel says.
import type { LabShell } from './lab-shell.js';

// One PCI function as the guest kernel has it now.
export interface GuestPciFunction {
  bdf: string;
  driver: string | undefined; // basename of the driver symlink
  override: string | undefined; // driver_override, undefined for "(null)"
  group: number | undefined;
}

// Every PCI function of the outer VM with its driver, driver_override and IOMMU group.
export async function readGuestPci(shell: LabShell): Promise<GuestPciFunction[]> {
  const out = await shell.check(
    'for d in /sys/bus/pci/devices/*; do ' +
      'drv=$(readlink "$d/driver" 2>/dev/null); grp=$(readlink "$d/iommu_group" 2>/dev/null); ' +
      'echo "${d##*/} ${drv##*/}/ ${grp##*/}/ $(cat "$d/driver_override" 2>/dev/null)"; done',
  );
  return out.split('\n').filter((l) => l.trim()).map((l) => {
    const [bdf, drv, grp, override] = l.split(' ');
    const driver = drv?.replace(/\/$/, '');
    const group = grp?.replace(/\/$/, '');
    return {
      bdf: bdf!,
      driver: driver || undefined,
      override: override && override !== '(null)' ? override : undefined,
      group: group ? Number(group) : undefined,
    };
  });
}

// The IOMMU group device nodes under /dev/vfio (the `vfio` container node itself excluded).
export async function vfioGroupNodes(shell: LabShell): Promise<string[]> {
  const out = await shell.check('ls /dev/vfio 2>/dev/null || true');
  return out.split(/\s+/).filter((n) => n && n !== 'vfio');
}

// The PCI address of a network interface (e.g. the management NIC eth0); for virtio the device link names the
// virtio device (virtio1), whose parent is the PCI function.
export async function nicBdf(shell: LabShell, name: string): Promise<string> {
  const path = (await shell.check(`readlink -f /sys/class/net/${name}/device`)).trim();
  const bdf = path.split('/').reverse().find((seg) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(seg));
  if (!bdf) throw new Error(`${name} is not behind a PCI function (${path})`);
  return bdf;
}

// The PCI address of the NVMe controller whose namespace has this serial.
export async function nvmeBdfBySerial(shell: LabShell, serial: string): Promise<string | undefined> {
  const out = await shell.check(
    'for c in /sys/class/nvme/*; do echo "$(cat "$c/serial" | tr -d " ") $(basename "$(readlink -f "$c/device")")"; done 2>/dev/null || true',
  );
  return out.split('\n').map((l) => l.trim().split(' ')).find(([s]) => s === serial)?.[1];
}

// Records the driver of `bdf` every `everyMs` until stopped, and once more at the stop: the sequence of distinct
// drivers seen.
export function watchDriver(shell: LabShell, bdf: string, everyMs = 2_000): { stop(): Promise<string[]> } {
  const seen: string[] = [];
  let running = true;
  let wake: (() => void) | undefined;
  const sample = async (): Promise<void> => {
    const r = await shell.run(`d=$(readlink /sys/bus/pci/devices/${bdf}/driver); echo "\${d##*/}"`, 20_000).catch(() => undefined);
    const driver = r?.output.trim() || '(none)';
    if (r && seen.at(-1) !== driver) seen.push(driver);
  };
  const loop = (async () => {
    while (running) {
      await sample();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, everyMs);
        wake = () => (clearTimeout(t), resolve());
      });
    }
  })();
  return {
    stop: async () => {
      running = false;
      wake?.();
      await loop;
      await sample();
      return seen;
    },
  };
}
