import type { Inventory } from '../protocol/inventory.js';
import type { Procfs } from './procfs.js';

// Parses /proc/meminfo into bytes per key (`MemTotal: 24684092 kB` -> MemTotal: 25276510208).
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]) * (line.includes('kB') ? 1024 : 1));
  }
  return out;
}

// The inventory's memory section; MemAvailable is estimated from free + caches on kernels without it.
export async function readMemory(procfs: Procfs): Promise<Inventory['memory']> {
  const info = parseMeminfo(await procfs.meminfo());
  const get = (k: string): number => info.get(k) ?? 0;
  const totalBytes = get('MemTotal');
  const availableBytes = info.get('MemAvailable') ?? get('MemFree') + get('Buffers') + get('Cached');
  return { totalBytes, availableBytes };
}
