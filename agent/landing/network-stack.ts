import type { NetworkStack } from '../protocol/index.js';
import type { RootTree } from './root-tree.js';

// Where systemd looks for units and their enablement links, in the installed system.
const UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system'];

// The installed system's identity (os-release) and what starts its network.
export interface StackDetection {
  os?: { id: string; versionId?: string; prettyName: string };
  init: 'systemd' | 'sysvinit' | 'openrc' | 'unknown';
  // Every network stack the system enables, with what shows it.
  enabled: { stack: NetworkStack; evidence: string[] }[];
  chosen?: NetworkStack;
  why: string;
  netplanRenderer?: 'networkd' | 'NetworkManager';
  // systemd-resolved is enabled (networkd's and netplan's DNS= then reach it)
  resolved: boolean;
  // resolvconf (or openresolv) is installed: ifupdown's dns-nameservers lines reach resolv.conf
  resolvconf: boolean;
  // the configuration files of the chosen stack already there (the installer's), for the report
  existing: string[];
}

/**
 * Finds the network stack an installed system really starts, by what it enables — systemd enablement links
 * (`*.wants/NAME.service`, aliases, not masked to /dev/null), netplan's generator with its YAML, sysvinit rc
 * links, OpenRC runlevels — never by the mere presence of a directory. When several are enabled, the one that
 * owns the NIC wins: netplan (it renders for networkd or NetworkManager), then NetworkManager (Debian desktops
 * keep ifupdown enabled for lo), then systemd-networkd, then ifupdown.
 */
export async function detectNetworkStack(t: RootTree): Promise<StackDetection> {
  const os = parseOsRelease((await t.readText('etc/os-release')) ?? (await t.readText('usr/lib/os-release')));
  const init = await detectInit(t);
  const enabled: StackDetection['enabled'] = [];
  const wants = init === 'systemd' ? await enablementLinks(t) : new Map<string, string[]>();
  const unitOn = async (unit: string, aliases: string[] = []): Promise<string[]> => {
    if (await isMasked(t, unit)) return [];
    const ev = [...(wants.get(unit) ?? [])];
    for (const a of aliases) if (await t.kind(`etc/systemd/system/${a}`).then((k) => k?.type === 'link')) ev.push(`etc/systemd/system/${a} (alias)`);
    if (ev.length === 0) return [];
    const installed = await unitFile(t, unit);
    return installed ? ev : [];
  };

  let netplanRenderer: StackDetection['netplanRenderer'];
  const generator = (await t.exists('usr/lib/systemd/system-generators/netplan')) || (await t.exists('lib/systemd/system-generators/netplan'));
  const netplanYaml = (await t.list('etc/netplan')).filter((n) => /\.ya?ml$/.test(n)).map((n) => `etc/netplan/${n}`);
  if (init === 'systemd' && generator && netplanYaml.length > 0) {
    netplanRenderer = 'networkd';
    for (const f of netplanYaml) if (/^\s*renderer:\s*NetworkManager\b/m.test((await t.readText(f)) ?? '')) netplanRenderer = 'NetworkManager';
    enabled.push({ stack: 'netplan', evidence: ['netplan generator (lib/systemd/system-generators/netplan)', ...netplanYaml] });
  }
  const nm = await unitOn('NetworkManager.service', ['dbus-org.freedesktop.NetworkManager.service']);
  if (nm.length) enabled.push({ stack: 'network-manager', evidence: nm });
  const networkd = [...(await unitOn('systemd-networkd.service', ['dbus-org.freedesktop.network1.service'])), ...(await unitOn('systemd-networkd.socket'))];
  if (networkd.length) enabled.push({ stack: 'systemd-networkd', evidence: networkd });
  const ifup = init === 'systemd' ? await unitOn('networking.service') : init === 'sysvinit' ? await rcLinks(t, 'networking') : await openrcLinks(t, 'networking');
  if (ifup.length && (await t.exists('etc/network/interfaces'))) enabled.push({ stack: 'ifupdown', evidence: [...ifup, 'etc/network/interfaces'] });

  const order: NetworkStack[] = ['netplan', 'network-manager', 'systemd-networkd', 'ifupdown'];
  const chosen = order.find((s) => enabled.some((e) => e.stack === s));
  const why = !chosen
    ? `no network stack is enabled (init: ${init}; looked for netplan with its generator, NetworkManager.service, systemd-networkd, networking.service with /etc/network/interfaces)`
    : enabled.length === 1
      ? `${chosen} is the only network stack enabled`
      : `${enabled.map((e) => e.stack).join(', ')} are enabled; ${chosen} owns the NIC (${chosen === 'netplan' ? 'it renders the others\' configuration' : 'the others keep only what it leaves them'})`;
  const resolved = (await unitOn('systemd-resolved.service', ['dbus-org.freedesktop.resolve1.service'])).length > 0;
  const resolvconf = (await t.exists('sbin/resolvconf')) || (await t.exists('usr/sbin/resolvconf'));
  return {
    ...(os ? { os } : {}),
    init,
    enabled,
    ...(chosen ? { chosen } : {}),
    why,
    ...(netplanRenderer ? { netplanRenderer } : {}),
    resolved,
    resolvconf,
    existing: chosen ? await existingConfig(t, chosen, netplanYaml) : [],
  };
}

// os-release's ID, VERSION_ID and PRETTY_NAME. Pure.
export function parseOsRelease(text: string | undefined): StackDetection['os'] {
  if (!text) return undefined;
  const v: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=("?)(.*)\2\s*$/.exec(line.trim());
    if (m) v[m[1]!] = m[3]!;
  }
  if (!v.ID && !v.NAME) return undefined;
  return { id: v.ID ?? v.NAME!.toLowerCase(), ...(v.VERSION_ID ? { versionId: v.VERSION_ID } : {}), prettyName: v.PRETTY_NAME ?? v.NAME ?? v.ID! };
}

async function detectInit(t: RootTree): Promise<StackDetection['init']> {
  const init = await t.kind('sbin/init');
  const systemdBin = (await t.exists('usr/lib/systemd/systemd')) || (await t.exists('lib/systemd/systemd'));
  if (init?.type === 'link' && /systemd/.test(init.target)) return 'systemd';
  if (init === undefined) return systemdBin ? 'systemd' : 'unknown';
  if ((await t.exists('sbin/openrc')) || (await t.exists('usr/sbin/openrc'))) return 'openrc';
  if ((await t.exists('etc/inittab')) || (await t.exists('etc/rcS.d'))) return 'sysvinit';
  return 'unknown';
}

// unit name -> the enablement links naming it (etc/systemd/system/multi-user.target.wants/NAME ...).
async function enablementLinks(t: RootTree): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const dir of UNIT_DIRS) {
    for (const sub of (await t.list(dir)).filter((n) => n.endsWith('.wants') || n.endsWith('.requires'))) {
      for (const unit of await t.list(`${dir}/${sub}`)) {
        const k = await t.kind(`${dir}/${sub}/${unit}`);
        if (!k) continue;
        out.set(unit, [...(out.get(unit) ?? []), `${dir}/${sub}/${unit}`]);
      }
    }
  }
  return out;
}

// Masked: etc/systemd/system/NAME is a link to /dev/null (or an empty file).
async function isMasked(t: RootTree, unit: string): Promise<boolean> {
  const k = await t.kind(`etc/systemd/system/${unit}`);
  return k?.type === 'link' && k.target === '/dev/null';
}

async function unitFile(t: RootTree, unit: string): Promise<boolean> {
  for (const dir of UNIT_DIRS) if (await t.exists(`${dir}/${unit}`)) return true;
  return false;
}

async function rcLinks(t: RootTree, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of ['etc/rcS.d', 'etc/rc2.d']) for (const n of await t.list(d)) if (new RegExp(`^S\\d\\d${name}$`).test(n)) out.push(`${d}/${n}`);
  return out;
}

async function openrcLinks(t: RootTree, name: string): Promise<string[]> {
  const out: string[] = [];
  for (const level of await t.list('etc/runlevels')) if ((await t.list(`etc/runlevels/${level}`)).includes(name)) out.push(`etc/runlevels/${level}/${name}`);
  return out;
}

async function existingConfig(t: RootTree, stack: NetworkStack, netplanYaml: string[]): Promise<string[]> {
  if (stack === 'netplan') return netplanYaml;
  if (stack === 'systemd-networkd') return (await t.list('etc/systemd/network')).filter((n) => n.endsWith('.network')).map((n) => `etc/systemd/network/${n}`);
  if (stack === 'network-manager') return (await t.list('etc/NetworkManager/system-connections')).map((n) => `etc/NetworkManager/system-connections/${n}`);
  return ['etc/network/interfaces', ...(await t.list('etc/network/interfaces.d')).map((n) => `etc/network/interfaces.d/${n}`)];
}
