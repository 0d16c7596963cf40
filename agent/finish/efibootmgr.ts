// `efibootmgr -v` output, parsed (efibootmgr 17 prints File(\path); 18 prints the path bare).

// One Boot#### variable.
export interface BootEntry {
  num: string; // 4 hex digits
  active: boolean;
  label: string;
  path: string; // the device path text
}

// The firmware's boot manager state.
export interface BootState {
  current?: string;
  order: string[];
  entries: BootEntry[];
}

// Parses `efibootmgr -v`. Pure.
export function parseEfibootmgr(text: string): BootState {
  const state: BootState = { order: [], entries: [] };
  for (const line of text.split('\n')) {
    const order = /^BootOrder:\s*(.*)$/.exec(line);
    if (order) state.order = order[1]!.split(',').map((s) => s.trim()).filter(Boolean);
    const current = /^BootCurrent:\s*([0-9A-Fa-f]{4})/.exec(line);
    if (current) state.current = current[1]!.toUpperCase();
    const m = /^Boot([0-9A-Fa-f]{4})(\*?)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [label, ...rest] = m[3]!.split('\t');
    state.entries.push({ num: m[1]!.toUpperCase(), active: m[2] === '*', label: label!.trim(), path: rest.join('\t').trim() });
  }
  return state;
}

// Does this entry start `loader` from the partition with this PARTUUID? (case-insensitive, either notation)
export function entryMatches(e: BootEntry, partuuid: string | undefined, loader: string): boolean {
  const path = e.path.toLowerCase();
  return (partuuid === undefined || path.includes(partuuid.toLowerCase())) && path.includes(loader.toLowerCase());
}

// The BootOrder that puts `num` first ('first') or last when it is new to the order ('keep'). Pure.
export function orderWith(order: string[], num: string, how: 'first' | 'keep'): string[] {
  const rest = order.filter((n) => n.toUpperCase() !== num);
  if (how === 'first') return [num, ...rest];
  return order.some((n) => n.toUpperCase() === num) ? order : [...rest, num];
}
