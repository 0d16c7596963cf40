import type { InstallRequestParsed, Inventory, PlanFidelity } from '../protocol/index.js';

/**
 * The VM's network when no NIC is passed through: one emulated NIC on QEMU user networking (NAT through
 * the rescue system: the installer can download, nothing reaches it, and it never joins the server's LAN,
 * so reusing the server's MAC collides with nothing). The MAC is the server's: installers that bind their
 * network configuration to a MAC (netplan match, ifcfg HWADDR, udev rules) then match the metal. Pure.
 */
export function chooseNic(req: InstallRequestParsed, inv: Inventory, passedNics: number): PlanFidelity['nic'] {
  const mode = req.vm.nic;
  if (mode === 'none') return { mode: 'none', reason: 'not requested: the installer has no network' };
  if (mode === 'auto' && passedNics > 0) return { mode: 'passthrough', reason: `${passedNics} NIC(s) passed through: no emulated NIC` };
  const model = req.vm.nicModel === 'virtio' ? 'virtio-net-pci' : 'e1000e';
  if (req.vm.mac) return { mode: 'user', model, mac: req.vm.mac.toLowerCase(), reason: 'emulated NIC on user networking (NAT) with the requested MAC' };
  const host = serverNic(inv);
  if (!host?.mac) return { mode: 'user', model, reason: 'emulated NIC on user networking (NAT); no host NIC MAC to copy' };
  return { mode: 'user', model, mac: host.mac.toLowerCase(), reason: `emulated NIC on user networking (NAT) with the MAC of ${host.name}` };
}

// The NIC the installed system will most likely use: the one carrying the default route, else the first
// physical one with a link (bond and VLAN devices carry their first lower device's MAC).
export function serverNic(inv: Inventory): Inventory['nics'][number] | undefined {
  const withMac = inv.nics.filter((n) => n.mac && n.mac !== '00:00:00:00:00:00');
  return withMac.find((n) => n.defaultRoute) ?? withMac.find((n) => !n.virtual && n.linkUp) ?? withMac.find((n) => !n.virtual);
}
