import type { Inventory } from '../protocol/inventory.js';
import type { Procfs } from './procfs.js';
import type { SiSubset } from './si-cpu.js';

// What /proc/cpuinfo says; fields are undefined where the kernel does not report them (e.g. aarch64).
export interface CpuinfoFacts {
  model?: string;
  vendorId?: string;
  threads: number;
  cores?: number;
  flags: Set<string>;
}

const VENDORS: Record<string, string> = {
  GenuineIntel: 'Intel',
  AuthenticAMD: 'AMD',
  HygonGenuine: 'Hygon',
  CentaurHauls: 'Centaur',
  Shanghai: 'Zhaoxin', // vendor_id is '  Shanghai  ', trimmed by the parser
};

// Parses /proc/cpuinfo: model name, vendor, threads (processor entries), cores (per physical package) and flags.
export function parseCpuinfo(text: string): CpuinfoFacts {
  const facts: CpuinfoFacts = { threads: 0, flags: new Set() };
  const coresByPackage = new Map<string, number>();
  let pkg = '0';
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'processor') {
      facts.threads++;
      pkg = '0';
    } else if (key === 'model name') facts.model ??= value;
    else if (key === 'vendor_id') facts.vendorId ??= value;
    else if (key === 'physical id') pkg = value;
    else if (key === 'cpu cores') coresByPackage.set(pkg, Number(value));
    else if (key === 'flags' && facts.flags.size === 0) for (const f of value.split(/\s+/)) facts.flags.add(f);
  }
  const cores = [...coresByPackage.values()].reduce((a, b) => a + b, 0);
  if (cores > 0) facts.cores = cores;
  return facts;
}

// The inventory's cpu section: cpuinfo first; systeminformation only fills what cpuinfo lacks.
export async function readCpu(procfs: Procfs, si: SiSubset): Promise<Inventory['cpu']> {
  const facts = parseCpuinfo(await procfs.cpuinfo());
  let vendor = facts.vendorId === undefined ? undefined : (VENDORS[facts.vendorId] ?? facts.vendorId);
  let model = facts.model;
  let cores = facts.cores;
  let threads = facts.threads;
  if (model === undefined || vendor === undefined || cores === undefined || threads === 0) {
    const c = await si.cpu();
    vendor ??= c.manufacturer || 'unknown';
    model ??= [c.manufacturer, c.brand].filter(Boolean).join(' ') || 'unknown';
    cores ??= c.physicalCores || c.cores;
    if (threads === 0) threads = c.cores;
  }
  return {
    model,
    vendor,
    cores,
    threads,
    virtualization: facts.flags.has('vmx') || facts.flags.has('svm'),
    hypervisor: facts.flags.has('hypervisor'),
  };
}
