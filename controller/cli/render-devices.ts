import type { Plan } from '../../agent/protocol/index.js';
import { table } from './output.js';

// The passthrough part of a plan as a table a person can act on: every PCI function the plan touches or
// refuses, its IOMMU group, what happens to it and why; then the protected set.
export function renderPassthrough(p: Plan): string[] {
  const pt = p.passthrough;
  if (!pt) return [];
  const out: string[] = [`passthrough: ${pt.mode}; interrupt remapping ${pt.interruptRemapping}`];
  const given = new Map(pt.devices.map((d) => [d.bdf, d]));
  const rows: string[][] = [];
  const listed = new Set<string>();
  for (const g of pt.groups) {
    for (const m of g.members) {
      const dev = given.get(m.bdf);
      const action = m.action === 'bind' ? (dev ? `pass through${dev.bootIndex ? ` (boot ${dev.bootIndex})` : ''}` : 'bind (group)') : m.action === 'leave' ? 'leave' : 'REFUSED';
      rows.push([m.bdf, String(g.group), action, `${m.className}${m.driver ? ` [${m.driver}]` : ''}`, m.note]);
      listed.add(m.bdf);
    }
  }
  for (const d of pt.protected) {
    if (listed.has(d.bdf)) continue;
    rows.push([d.bdf, d.iommuGroup === undefined ? '-' : String(d.iommuGroup), 'protected', `${d.className}${d.driver ? ` [${d.driver}]` : ''}`, d.reasons.join('; ')]);
  }
  if (rows.length > 0) out.push(table([['DEVICE', 'GROUP', 'ACTION', 'CLASS [DRIVER]', 'REASON'], ...rows]));
  for (const g of pt.groups) out.push(`group ${g.group}: ${g.isolatable ? 'isolatable' : 'NOT isolatable'}: ${g.reason}`);
  return out;
}
