import type os from 'node:os';
import type { NicInfo } from '../protocol/inventory.js';
import { parseIpv4DefaultRoutes, parseIpv6DefaultRoutes } from './default-route.js';
import { bdfFromPath } from './pci-address.js';
import type { Procfs } from './procfs.js';
import type { Sysfs } from './sysfs.js';

// What listNics needs besides sysfs: the routing tables and the addresses Node sees.
export interface NicDeps {
  sysfs: Sysfs;
  procfs: Procfs;
  networkInterfaces: typeof os.networkInterfaces;
}

// One interface from /sys/class/net/<name>; `defaultRoutes` names the interfaces carrying a default route.
export async function readNic(
  sysfs: Sysfs,
  name: string,
  addrs: ReturnType<typeof os.networkInterfaces>,
  defaultRoutes: Set<string>,
): Promise<NicInfo> {
  const dir = `class/net/${name}`;
  const [mac, operstate, carrier, speed, deviceReal, driver] = await Promise.all([
    sysfs.readAttr(`${dir}/address`),
    sysfs.readAttr(`${dir}/operstate`),
    sysfs.readAttr(`${dir}/carrier`), // EINVAL while the interface is down
    sysfs.readAttr(`${dir}/speed`), // EINVAL while down, -1 when unknown
    sysfs.realpath(`${dir}/device`),
    sysfs.readLinkName(`${dir}/device/driver`),
  ]);
  // operstate "unknown" is common for drivers that do not report it (tun, some virtio): trust the carrier then.
  const linkUp = operstate === 'up' || (operstate === 'unknown' && carrier === '1');
  const mbps = Number(speed);
  const bdf = deviceReal === undefined ? undefined : bdfFromPath(deviceReal);
  const nic: NicInfo = {
    name,
    ...(mac ? { mac } : {}),
    linkUp,
    ...(speed !== undefined && Number.isFinite(mbps) && mbps > 0 ? { speedMbps: mbps } : {}),
    addresses: (addrs[name] ?? []).map((a) => a.cidr ?? a.address),
    defaultRoute: defaultRoutes.has(name),
    ...(bdf !== undefined ? { pciAddress: bdf } : {}),
    ...(driver !== undefined ? { driver } : {}),
    virtual: deviceReal === undefined,
  };
  return nic;
}

// Every network interface except loopback, in name order.
export async function listNics(deps: NicDeps): Promise<NicInfo[]> {
  const [names, v4, v6] = await Promise.all([
    deps.sysfs.list('class/net'),
    deps.procfs.netRoute(),
    deps.procfs.netIpv6Route(),
  ]);
  const defaultRoutes = new Set([...parseIpv4DefaultRoutes(v4), ...parseIpv6DefaultRoutes(v6)]);
  const addrs = deps.networkInterfaces();
  // class/net holds one symlink per interface, plus plain files such as bonding_masters: keep the links.
  const links = await Promise.all(names.map(async (n) => ((await deps.sysfs.readLink(`class/net/${n}`)) ? n : undefined)));
  const nics = links.filter((n): n is string => n !== undefined && n !== 'lo');
  return Promise.all(nics.map((n) => readNic(deps.sysfs, n, addrs, defaultRoutes)));
}
