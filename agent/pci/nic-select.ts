import type { NicInfo, NicSelector } from '../protocol/index.js';
import { XepaError } from '../protocol/index.js';

const describe = (s: NicSelector): string => (s.name !== undefined ? `name ${s.name}` : s.mac !== undefined ? `mac ${s.mac}` : `bdf ${s.bdf}`);

// The NICs a request names (by name, MAC or BDF); each must exist and sit on a PCI function.
export function resolveNics(selectors: NicSelector[], nics: NicInfo[]): NicInfo[] {
  return selectors.map((s) => {
    const hit = nics.find(
      (n) =>
        (s.name !== undefined && n.name === s.name) ||
        (s.mac !== undefined && n.mac?.toLowerCase() === s.mac.toLowerCase()) ||
        (s.bdf !== undefined && n.pciAddress === s.bdf.toLowerCase()),
    );
    if (!hit) {
      const known = nics.map((n) => `${n.name} (${n.mac ?? '-'}, ${n.pciAddress ?? 'virtual'})`).join(', ') || 'none';
      throw new XepaError('ERR_DEVICE_NOT_FOUND', `no NIC matches ${describe(s)}; NICs here: ${known}`, { details: { selector: s } });
    }
    if (hit.pciAddress === undefined) {
      throw new XepaError('ERR_BAD_REQUEST', `${hit.name} is a virtual interface: only NICs on a PCI function can be passed through`);
    }
    return hit;
  });
}
