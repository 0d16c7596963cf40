import type { NetworkMode, RescueNetwork } from '../../protocol/index.js';

// What a network writer is given: the metal NIC's facts, the mode, and what the installed system offers.
export interface WriterInput {
  mode: Exclude<NetworkMode, 'keep'>;
  net: RescueNetwork;
  job: string;
  // systemd-resolved enabled / resolvconf installed / what etc/resolv.conf is (DNS goes where it is read)
  resolved: boolean;
  resolvconf: boolean;
  resolvConf: 'file' | 'link' | 'missing';
  // netplan's renderer in the installed system
  netplanRenderer?: 'networkd' | 'NetworkManager';
  // ifupdown: the text of etc/network/interfaces (a source line for interfaces.d may be missing)
  interfaces?: string;
}

// One file to write into the installed system (path inside it).
export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
  why: string;
}

// A writer's output: the files, and what a person should know about them.
export interface NetworkFiles {
  files: PlannedFile[];
  notes: string[];
}

// The first lines of every file finish writes: who wrote it, for which NIC, from what.
export function header(i: WriterInput, comment = '#'): string {
  const what = i.mode === 'rescue' ? 'the rescue system\'s live configuration' : 'DHCP';
  return `${comment} Written by xepa finish (job ${i.job}): the server's NIC, matched by its MAC ${i.net.mac}\n${comment} (the installer's VM named its NIC otherwise), configured with ${what}.\n`;
}

// IPv6 router advertisements: accepted when the rescue system had SLAAC addresses or none configured statically.
export function acceptRa(i: WriterInput): boolean {
  return i.mode === 'dhcp' || i.net.ipv6.some((a) => a.dynamic) || i.net.ipv6.length === 0;
}

// The static addresses to write (SLAAC addresses come back by themselves).
export function staticAddresses(i: WriterInput): string[] {
  return [...i.net.ipv4.map((a) => `${a.address}/${a.prefix}`), ...i.net.ipv6.filter((a) => !a.dynamic).map((a) => `${a.address}/${a.prefix}`)];
}

// etc/resolv.conf with the rescue system's resolvers, when the stack itself cannot carry DNS and the file is
// the installed system's own (a symlink belongs to a resolver service: left alone, with a note).
export function resolvConfFile(i: WriterInput, notes: string[]): PlannedFile[] {
  if (i.mode !== 'rescue' || i.net.dns.length === 0) return [];
  if (i.resolvConf === 'link') {
    notes.push('etc/resolv.conf is a symlink (a resolver service owns it): left alone; the resolvers are not written');
    return [];
  }
  const lines = [...(i.net.search.length ? [`search ${i.net.search.join(' ')}`] : []), ...i.net.dns.map((d) => `nameserver ${d}`)];
  return [{ path: 'etc/resolv.conf', content: `${header(i)}${lines.join('\n')}\n`, mode: 0o644, why: 'the rescue system\'s resolvers (the network stack does not write resolv.conf here)' }];
}
