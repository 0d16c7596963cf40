// Builders for procfs file contents in the kernel's exact layout, for fake hosts.

// /proc/cpuinfo of a two-socket Intel server: `packages` x `cores` x 2 threads.
export function intelCpuinfo(flags = 'fpu vme sse sse2 ht vmx ept', packages = 2, cores = 4): string {
  const out: string[] = [];
  const perPackage = cores * 2;
  for (let p = 0; p < packages * perPackage; p++) {
    out.push(
      [
        `processor\t: ${p}`,
        'vendor_id\t: GenuineIntel',
        'model name\t: Intel(R) Xeon(R) Silver 4210R CPU @ 2.40GHz',
        `physical id\t: ${Math.floor(p / perPackage)}`,
        `siblings\t: ${perPackage}`,
        `cpu cores\t: ${cores}`,
        `flags\t\t: ${flags}`,
        '',
      ].join('\n'),
    );
  }
  return out.join('\n');
}

// /proc/meminfo with MemTotal and MemAvailable in KiB.
export function meminfo(totalKiB: number, availableKiB: number): string {
  return `MemTotal:       ${totalKiB} kB\nMemFree:        ${availableKiB} kB\nMemAvailable:   ${availableKiB} kB\nBuffers:            0 kB\n`;
}

// /proc/mounts from [source, mountpoint, fstype] triples.
export function mountsTable(entries: [string, string, string][]): string {
  return entries.map(([s, m, t]) => `${s} ${m.replace(/ /g, '\\040')} ${t} rw,relatime 0 0`).join('\n') + '\n';
}

// /proc/self/mountinfo from [major:minor, source, mountpoint, fstype] tuples.
export function mountinfoTable(entries: [string, string, string, string][]): string {
  return entries.map(([mm, s, m, t], i) => `${20 + i} 1 ${mm} / ${m} rw,relatime shared:1 - ${t} ${s} rw`).join('\n') + '\n';
}

// /proc/swaps for swap partitions.
export function swapsTable(paths: string[]): string {
  const head = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';
  return head + paths.map((p) => `${p.padEnd(40)}partition\t8388604\t\t0\t\t-2\n`).join('');
}

// /proc/net/route with a default route through `iface` (192.0.2.1) and its connected /24.
export function routeTable(iface: string): string {
  return [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    `${iface}\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0`,
    `${iface}\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0`,
    '',
  ].join('\n');
}
