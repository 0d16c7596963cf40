import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMountinfo, parseMounts, parseSwaps } from '../../../agent/host/block-usage.js';
import { parseCpuinfo } from '../../../agent/host/cpu.js';
import { parseIpv4DefaultRoutes, parseIpv6DefaultRoutes } from '../../../agent/host/default-route.js';
import { parseMeminfo } from '../../../agent/host/memory.js';
import { intelCpuinfo } from './fake-proc.js';

// Captured from the Firecracker VM this project is developed on (fixtures/firecracker-vm).
const fixture = (f: string): string => readFileSync(new URL(`./fixtures/firecracker-vm/${f}`, import.meta.url), 'utf8');

describe('parseCpuinfo', () => {
  it('reads model, vendor, threads, cores and the hypervisor flag from a captured VM', () => {
    const c = parseCpuinfo(fixture('cpuinfo'));
    expect(c).toMatchObject({ model: 'AMD EPYC', vendorId: 'AuthenticAMD', threads: 2, cores: 2 });
    expect(c.flags.has('hypervisor')).toBe(true);
    expect(c.flags.has('svm')).toBe(false);
  });

  it('adds up cores over physical packages', () => {
    const c = parseCpuinfo(intelCpuinfo());
    expect(c).toMatchObject({ threads: 16, cores: 8, vendorId: 'GenuineIntel' });
    expect(c.flags.has('vmx')).toBe(true);
  });

  it('leaves model and cores undefined where the kernel does not report them (aarch64)', () => {
    const c = parseCpuinfo('processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n');
    expect(c.model).toBeUndefined();
    expect(c.cores).toBeUndefined();
    expect(c.threads).toBe(2);
  });
});

describe('parseMeminfo', () => {
  it('converts kB values to bytes', () => {
    const m = parseMeminfo(fixture('meminfo'));
    expect(m.get('MemTotal')).toBe(24684092 * 1024);
    expect(m.get('MemAvailable')).toBeGreaterThan(0);
    expect(m.get('HugePages_Total')).toBe(0);
  });
});

describe('mount and swap tables', () => {
  it('parses /proc/mounts sources and mount points', () => {
    expect(parseMounts(fixture('mounts'))).toContainEqual({ source: '/dev/vda', mountPoint: '/' });
  });

  it('parses mountinfo with major:minor and decodes octal escapes', () => {
    const entries = parseMountinfo(`${fixture('mountinfo')}\n40 27 8:1 / /mnt/my\\040disk rw - ext4 /dev/sda1 rw\n`);
    expect(entries).toContainEqual({ source: '/dev/vda', mountPoint: '/', majMin: '254:0' });
    expect(entries).toContainEqual({ source: '/dev/sda1', mountPoint: '/mnt/my disk', majMin: '8:1' });
  });

  it('parses swap areas and an empty swap table', () => {
    expect(parseSwaps(fixture('swaps'))).toEqual([]);
    const text = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/sda2   partition\t8388604\t\t0\t\t-2\n/swapfile   file\t1048572\t0\t-3\n';
    expect(parseSwaps(text)).toEqual(['/dev/sda2', '/swapfile']);
  });
});

describe('default routes', () => {
  it('finds the IPv4 default route interface in a captured table', () => {
    expect([...parseIpv4DefaultRoutes(fixture('net-route'))]).toEqual(['eth0']);
  });

  it('ignores routes that are not the default', () => {
    const text = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth1\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';
    expect(parseIpv4DefaultRoutes(text).size).toBe(0);
  });

  it('finds the IPv6 default route and ignores the reject route on lo', () => {
    expect([...parseIpv6DefaultRoutes(fixture('net-ipv6-route'))]).toEqual(['eth0']);
  });
});
