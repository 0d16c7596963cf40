import { describe, expect, it } from 'vitest';
import { mirrorPciLayout } from '../../../agent/fidelity/index.js';
import { codeOf } from '../../support/error-code.js';

const where = (hostBdfs: string[]) => {
  const l = mirrorPciLayout(hostBdfs);
  return { controllers: l.controllers, at: Object.fromEntries(l.placements.map((p) => [p.hostBdf, `${p.bus} ${p.addr}${p.multifunction ? ' mf' : ''} -> ${p.guestBdf}`])), notes: l.notes };
};

describe('guest PCI addresses mirroring the host', () => {
  it('keeps an onboard NIC on bus 0 at its own slot and function (enp0s31f6 stays enp0s31f6)', () => {
    expect(where(['0000:00:1f.6'])).toEqual({ controllers: [], at: { '0000:00:1f.6': 'pcie.0 0x1f.6 -> 0000:00:1f.6' }, notes: [] });
  });

  it('puts devices on buses 1 and 2 behind root ports on bus 0, numbered in order', () => {
    expect(where(['0000:02:00.0', '0000:01:00.0'])).toEqual({
      controllers: [
        'pcie-root-port,id=xrp1,bus=pcie.0,chassis=1,addr=02.0,multifunction=on',
        'pcie-root-port,id=xrp2,bus=pcie.0,chassis=2,addr=02.1',
      ],
      at: { '0000:01:00.0': 'xrp1 0x00.0 -> 0000:01:00.0', '0000:02:00.0': 'xrp2 0x00.0 -> 0000:02:00.0' },
      notes: [],
    });
  });

  it('reaches a later bus through a PCIe expander bridge whose bus_nr sits just below it', () => {
    expect(where(['0000:41:00.0']).controllers).toEqual([
      'pxb-pcie,id=xpxb1,bus=pcie.0,bus_nr=64,addr=02.0',
      'pcie-root-port,id=xrp1,bus=xpxb1,chassis=1,addr=00.0',
    ]);
    expect(where(['0000:41:00.0']).at).toEqual({ '0000:41:00.0': 'xrp1 0x00.0 -> 0000:41:00.0' });
  });

  it('keeps the functions of a multifunction device together, function 0 marked multifunction', () => {
    expect(where(['0000:03:00.1', '0000:03:00.0', '0000:01:00.0']).at).toEqual({
      '0000:01:00.0': 'xrp1 0x00.0 -> 0000:01:00.0',
      '0000:03:00.0': 'xrp2 0x00.0 mf -> 0000:03:00.0',
      '0000:03:00.1': 'xrp2 0x00.1 -> 0000:03:00.1',
    });
    expect(where(['0000:03:00.1', '0000:03:00.0', '0000:01:00.0']).controllers).toEqual([
      'pcie-root-port,id=xrp1,bus=pcie.0,chassis=1,addr=02.0',
      'pxb-pcie,id=xpxb1,bus=pcie.0,bus_nr=2,addr=03.0',
      'pcie-root-port,id=xrp2,bus=xpxb1,chassis=2,addr=00.0',
    ]);
  });

  it('renumbers functions from 0 when function 0 is not passed through, and says so', () => {
    const w = where(['0000:05:00.1']);
    expect(w.at).toEqual({ '0000:05:00.1': 'xrp1 0x00.0 -> 0000:05:00.0' });
    expect(w.notes.join('\n')).toMatch(/function 0 is not passed through/);
  });

  it('moves what cannot be mirrored to a free bus-0 slot with a note: QEMU\'s own slot, another domain, a non-zero slot behind a bridge', () => {
    const w = where(['0000:00:1f.2', '0001:02:00.0', '0000:06:03.0']);
    expect(Object.values(w.at).every((a) => a.startsWith('pcie.0 '))).toBe(true);
    expect(w.notes).toHaveLength(3);
    expect(w.notes.join('\n')).toMatch(/QEMU's own/);
    expect(w.notes.join('\n')).toMatch(/PCI domain 0001/);
    expect(w.notes.join('\n')).toMatch(/slot 03 behind a bridge/);
    expect(mirrorPciLayout(['0000:00:1f.2']).placements[0]!.exact).toBe(false);
  });

  it('refuses something that is not a BDF', () => {
    expect(codeOf(() => mirrorPciLayout(['01:00.0']))).toBe('ERR_BAD_REQUEST');
  });
});
