import type os from 'node:os';
import { type Procfs, type Sysfs, parseIpv4DefaultRoutes, parseIpv6DefaultRoutes } from '../host/index.js';
import { type LowerNic, physicalNicsUnder } from './net-lowers.js';
import { interfaceWithAddress, routeInterface } from './net-routes.js';

// The two ends of the control connection as the agent saw them (remote: the controller; local: the agent).
export interface ControllerPeer {
  remote?: string;
  local?: string;
}

// A device-backed NIC the rescue system's networking rests on, and why.
export interface CriticalNic extends LowerNic {
  top: string; // the interface on the route: eth0, or bond0 / br0 / eth0.100 above it
  kind: 'controller-nic' | 'default-route-nic';
}

// Which NICs carry the controller connection (the routes to each peer, the interface holding each local
// address) and which carry a default route, each expanded to the physical NICs below bonds, VLANs, bridges.
export async function readCriticalNics(
  deps: { sysfs: Sysfs; procfs: Procfs; networkInterfaces: typeof os.networkInterfaces },
  peers: ControllerPeer[],
): Promise<CriticalNic[]> {
  const [v4, v6] = await Promise.all([deps.procfs.netRoute(), deps.procfs.netIpv6Route()]);
  const addrs = deps.networkInterfaces();
  const controllerTops = new Set<string>();
  for (const p of peers) {
    const viaRoute = p.remote === undefined ? undefined : routeInterface(p.remote, v4, v6);
    const viaAddr = p.local === undefined ? undefined : interfaceWithAddress(p.local, addrs);
    for (const i of [viaRoute, viaAddr]) if (i !== undefined && i !== 'lo') controllerTops.add(i);
  }
  const defaultTops = new Set([...parseIpv4DefaultRoutes(v4), ...parseIpv6DefaultRoutes(v6)]);
  const out: CriticalNic[] = [];
  const seen = new Set<string>();
  const add = async (top: string, kind: CriticalNic['kind']): Promise<void> => {
    for (const nic of await physicalNicsUnder(deps.sysfs, top)) {
      if (seen.has(nic.name)) continue; // a NIC carrying the controller connection is not listed twice
      seen.add(nic.name);
      out.push({ ...nic, top, kind });
    }
  };
  for (const top of [...controllerTops].sort()) await add(top, 'controller-nic');
  for (const top of [...defaultTops].sort()) await add(top, 'default-route-nic');
  return out;
}
