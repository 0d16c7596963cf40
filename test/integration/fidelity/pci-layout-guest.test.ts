// The mirrored PCI layout, booted: emulated NICs stand in for passed-through functions (same topology
// arguments), and the guest's own PCI listing must show them at the host's addresses (SeaBIOS numbering).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../../../build/host-deps.js';
import { ensureTestIso, TEST_ISO_PACKAGES, type TestIso } from '../../../build/test-iso/index.js';
import { mirrorPciLayout } from '../../../agent/fidelity/index.js';
import { startVm } from '../../../agent/vm/index.js';
import { readProbe } from './probe-lines.js';

let iso: TestIso;
let work = '';
beforeAll(async () => {
  await ensureDebianPackages([...TEST_ISO_PACKAGES, 'grub-efi-amd64-bin', 'qemu-system-x86', 'seabios']);
  iso = await ensureTestIso({ kernel: 'generic', firmware: 'both', probe: true });
  work = await mkdtemp(join(tmpdir(), 'xepa-pci-layout-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('mirrored PCI addresses inside the guest', () => {
  it('shows an onboard function on bus 0, buses 1 and 3 behind root ports and an expander, and a multifunction device kept together', async () => {
    const host = ['0000:00:1f.6', '0000:01:00.0', '0000:03:00.0', '0000:03:00.1', '0000:41:00.0'];
    const layout = mirrorPciLayout(host);
    const devices = layout.placements.map((p, i) => ['-device', `e1000e,id=mirror${i},bus=${p.bus},addr=${p.addr}${p.multifunction ? ',multifunction=on' : ''},netdev=none${i}`]);
    const vm = await startVm({
      name: 'pci-layout', accel: 'tcg', memoryMiB: 512, cpus: 1, firmware: { mode: 'bios' }, cdrom: iso.iso, disks: [],
      sockets: { qmp: join(work, 'qmp.sock'), vnc: join(work, 'vnc.sock'), serial: [join(work, 's0.sock'), join(work, 's1.sock')] },
      serialLogs: [join(work, 's0.log'), join(work, 's1.log')],
      bootOrder: 'cdrom-first',
      extraArgs: [
        ...layout.controllers.flatMap((c) => ['-device', c]),
        ...layout.placements.flatMap((_, i) => ['-netdev', `user,id=none${i},restrict=on`]),
        ...devices.flat(),
      ],
    }, { log: pino({ level: 'warn' }) });
    await vm.exited;
    const { facts, complete, text } = await readProbe(join(work, 's0.log'));
    expect(complete, text.slice(-2000)).toBe(true);
    for (const p of layout.placements) expect(facts[`pci.${p.guestBdf}`], `${p.hostBdf} -> ${p.guestBdf}`).toBe('0x8086:0x10d3');
    expect(layout.placements.every((p) => p.exact)).toBe(true);
  });
});
