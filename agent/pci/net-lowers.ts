import type { Sysfs } from '../host/index.js';

// A physical (device-backed) interface below a logical one, and the chain that leads to it.
export interface LowerNic {
  name: string;
  via: string[]; // logical interfaces from the top down: ['br0', 'bond0'] for eth0 in bond0 in br0
}

// The interfaces directly below `iface`: lower_* links (bond slaves, VLAN and macvlan parents, team ports),
// brif/ entries (bridge ports) and bonding/slaves (older kernels without lower_* links).
async function directLowers(sysfs: Sysfs, iface: string): Promise<string[]> {
  const dir = `class/net/${iface}`;
  const [entries, ports, slaves] = await Promise.all([sysfs.list(dir), sysfs.list(`${dir}/brif`), sysfs.readAttr(`${dir}/bonding/slaves`)]);
  const out = new Set<string>();
  for (const e of entries) if (e.startsWith('lower_')) out.add(e.slice('lower_'.length));
  for (const p of ports) out.add(p);
  for (const s of (slaves ?? '').split(/\s+/)) if (s !== '') out.add(s);
  return [...out].sort();
}

// Every device-backed interface that `iface` depends on (itself when it has a `device`), through bonds,
// VLANs, bridges and macvlans, depth first; loops in odd setups are cut.
export async function physicalNicsUnder(sysfs: Sysfs, iface: string, via: string[] = [], seen = new Set<string>()): Promise<LowerNic[]> {
  if (seen.has(iface)) return [];
  seen.add(iface);
  if (await sysfs.exists(`class/net/${iface}/device`)) return [{ name: iface, via }];
  const out: LowerNic[] = [];
  for (const lower of await directLowers(sysfs, iface)) out.push(...(await physicalNicsUnder(sysfs, lower, [...via, iface], seen)));
  return out;
}
