import { RootedFs } from './rooted-fs.js';

// Read access to the few procfs files the agent needs; `root` is a parameter so tests use fake trees.
export class Procfs extends RootedFs {
  constructor(root = '/proc') {
    super(root);
  }

  // /proc/mounts: `source mountpoint fstype options 0 0` per line ('' when absent).
  async mounts(): Promise<string> {
    return (await this.readText('mounts')) ?? '';
  }

  // /proc/self/mountinfo: like mounts, plus each mount's major:minor; undefined when absent.
  async mountinfo(): Promise<string | undefined> {
    return this.readText('self/mountinfo');
  }

  // /proc/swaps: active swap areas, with a header line ('' when absent).
  async swaps(): Promise<string> {
    return (await this.readText('swaps')) ?? '';
  }

  // /proc/meminfo ('' when absent).
  async meminfo(): Promise<string> {
    return (await this.readText('meminfo')) ?? '';
  }

  // /proc/cpuinfo ('' when absent).
  async cpuinfo(): Promise<string> {
    return (await this.readText('cpuinfo')) ?? '';
  }

  // /proc/net/route: the IPv4 routing table, hex little-endian ('' when absent).
  async netRoute(): Promise<string> {
    return (await this.readText('net/route')) ?? '';
  }

  // /proc/net/ipv6_route: the IPv6 routing table ('' when absent or IPv6 is disabled).
  async netIpv6Route(): Promise<string> {
    return (await this.readText('net/ipv6_route')) ?? '';
  }
}
