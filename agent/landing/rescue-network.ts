import type { IpAddress, RescueNetwork } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';
import { inSubnet4 } from './ip-math.js';

// Link kinds that stand on other devices: their configuration is not one NIC's (finish reports them).
const COMPOSITE_KINDS = ['bond', 'bridge', 'vlan', 'team', 'macvlan', 'macvtap', 'ipvlan', 'vxlan', 'bareudp'];

// `ip -j -d addr` entries: the fields finish reads.
interface IpAddrJson {
  ifname: string;
  address?: string;
  link_type?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string; dynamic?: boolean; temporary?: boolean; deprecated?: boolean }[];
}

// `ip -j route` / `ip -j -6 route` entries.
interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  flags?: string[];
  metric?: number;
}

// The raw inputs, as the rescue system prints them: `ip -j -d addr`, `ip -j route`, `ip -j -6 route`, resolv.conf.
export interface RescueNetworkInputs {
  addr: string;
  route4: string;
  route6: string;
  resolvConf: string;
  // systemd-resolved's upstream list (/run/systemd/resolve/resolv.conf), read when resolv.conf names only its stub
  resolvedUpstream?: string;
}

/**
 * The server NIC and its live configuration in the rescue system: the interface of the IPv4 default route
 * (else the IPv6 one), its MAC, its global addresses with prefix, the gateways (on-link when outside every
 * subnet of the NIC), and the resolvers. Pure; throws ERR_CONFIG when no default route exists.
 */
export function parseRescueNetwork(i: RescueNetworkInputs): RescueNetwork {
  const links = JSON.parse(i.addr) as IpAddrJson[];
  const r4 = (JSON.parse(i.route4 || '[]') as IpRouteJson[]).filter((r) => r.dst === 'default' && r.gateway && r.dev);
  const r6 = (JSON.parse(i.route6 || '[]') as IpRouteJson[]).filter((r) => r.dst === 'default' && r.gateway && r.dev);
  const byMetric = (a: IpRouteJson, b: IpRouteJson): number => (a.metric ?? 0) - (b.metric ?? 0);
  r4.sort(byMetric);
  r6.sort(byMetric);
  const iface = r4[0]?.dev ?? r6[0]?.dev;
  if (!iface) throw new XepaError('ERR_CONFIG', 'the rescue system has no default route: there is no live network configuration to carry to the installed system');
  const link = links.find((l) => l.ifname === iface);
  if (!link?.address) throw new XepaError('ERR_CONFIG', `the default route's interface ${iface} is not in ip addr's list or has no MAC`);
  const notes: string[] = [];
  const info = link.addr_info ?? [];
  const ipv4: IpAddress[] = info.filter((a) => a.family === 'inet' && a.scope !== 'host').map((a) => ({ address: a.local, prefix: a.prefixlen }));
  const ipv6 = info
    .filter((a) => a.family === 'inet6' && a.scope === 'global' && !a.temporary)
    .map((a) => ({ address: a.local, prefix: a.prefixlen, dynamic: a.dynamic === true }));
  const g4 = r4.find((r) => r.dev === iface);
  const gateway4 = g4?.gateway
    ? { address: g4.gateway, onLink: (g4.flags ?? []).includes('onlink') || !ipv4.some((a) => inSubnet4(g4.gateway!, a.address, a.prefix)) }
    : undefined;
  const gateway6 = r6.find((r) => r.dev === iface)?.gateway;
  for (const r of [...r4, ...r6]) if (r.dev !== iface) notes.push(`a default route via ${r.gateway} on ${r.dev} is left out: only ${iface} is carried over`);
  const others = links.filter((l) => l.ifname !== iface && l.link_type === 'ether' && (l.addr_info ?? []).some((a) => a.scope === 'global'));
  for (const o of others) notes.push(`${o.ifname} (${o.address ?? 'no MAC'}) also has addresses in the rescue system; finish configures only ${iface}`);
  // A NIC configuration fits a plain NIC (and a veth, what a container's NIC is); these carry other devices.
  const kind = COMPOSITE_KINDS.includes(link.linkinfo?.info_kind ?? '') ? link.linkinfo!.info_kind : undefined;
  const dns = resolvers(i, notes);
  return {
    iface,
    mac: link.address.toLowerCase(),
    ...(kind ? { kind } : {}),
    ipv4,
    ...(gateway4 ? { gateway4 } : {}),
    ipv6,
    ...(gateway6 ? { gateway6 } : {}),
    dns: dns.servers,
    search: dns.search,
    notes,
  };
}

// nameserver and search lines; a local stub (127.0.0.53, ::1 ...) is replaced by the stub's upstream list.
function resolvers(i: RescueNetworkInputs, notes: string[]): { servers: string[]; search: string[] } {
  const parse = (text: string): { servers: string[]; search: string[] } => {
    const servers: string[] = [];
    const search: string[] = [];
    for (const line of text.split('\n')) {
      const [key, ...rest] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
      if (key === 'nameserver' && rest[0]) servers.push(rest[0]);
      if ((key === 'search' || key === 'domain') && rest.length) search.push(...rest.filter((d) => !search.includes(d)));
    }
    return { servers, search };
  };
  const local = (s: string): boolean => s.startsWith('127.') || s === '::1';
  const own = parse(i.resolvConf);
  if (own.servers.length > 0 && own.servers.every(local) && i.resolvedUpstream) {
    const up = parse(i.resolvedUpstream);
    notes.push(`resolv.conf names the local stub ${own.servers.join(', ')}: its upstream servers are used`);
    return { servers: up.servers.filter((s) => !local(s)), search: own.search.length ? own.search : up.search };
  }
  const dropped = own.servers.filter(local);
  if (dropped.length) notes.push(`local resolvers ${dropped.join(', ')} are left out (they are the rescue system's own)`);
  return { servers: own.servers.filter((s) => !local(s)), search: own.search };
}

// How the reader reaches the rescue system: a tool runner for `ip` and a file reader.
export interface RescueNetworkDeps {
  run: (cmd: string, args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
  readFile: (path: string) => Promise<string | undefined>;
}

// Reads the rescue system's live network configuration (iproute2's JSON output and resolv.conf).
export async function readRescueNetwork(deps: RescueNetworkDeps): Promise<RescueNetwork> {
  const ip = async (args: string[]): Promise<string> => {
    const r = await deps.run('ip', args);
    if (r.code !== 0) throw new XepaError('ERR_CONFIG', `ip ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
    return r.stdout;
  };
  const [addr, route4, route6] = [await ip(['-j', '-d', 'addr', 'show']), await ip(['-j', 'route', 'show']), await ip(['-j', '-6', 'route', 'show'])];
  const resolvConf = (await deps.readFile('/etc/resolv.conf')) ?? '';
  const resolvedUpstream = await deps.readFile('/run/systemd/resolve/resolv.conf');
  return parseRescueNetwork({ addr, route4, route6, resolvConf, ...(resolvedUpstream !== undefined ? { resolvedUpstream } : {}) });
}

// One line for a person: "eth0 (a0:36:..) 203.0.113.10/32 via 203.0.113.1 (on-link), 2001:db8::2/64 via fe80::1, DNS ...".
export function describeRescueNetwork(n: RescueNetwork): string {
  const v4 = n.ipv4.map((a) => `${a.address}/${a.prefix}`).join(', ');
  const v6 = n.ipv6.map((a) => `${a.address}/${a.prefix}${a.dynamic ? ' (SLAAC)' : ''}`).join(', ');
  const gw4 = n.gateway4 ? ` via ${n.gateway4.address}${n.gateway4.onLink ? ' (on-link)' : ''}` : '';
  const gw6 = n.gateway6 ? ` via ${n.gateway6}` : '';
  const parts = [v4 ? `${v4}${gw4}` : 'no IPv4', v6 ? `${v6}${gw6}` : 'no IPv6', n.dns.length ? `DNS ${n.dns.join(' ')}` : 'no DNS'];
  return `${n.iface}${n.kind ? ` (${n.kind})` : ''} ${n.mac}: ${parts.join('; ')}`;
}
