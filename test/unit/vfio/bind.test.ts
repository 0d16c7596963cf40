import { existsSync, readFileSync } from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { isXepaError } from '../../../agent/protocol/index.js';
import { type VfioDeps, bindToVfio, bindVfioStep, journalPath, restoreJournal } from '../../../agent/vfio/index.js';
import { type FakeHostTree, type FakePciDevice, buildFakeHost, pciDevice } from '../host/fake-sysfs.js';
import { FakeKernelSysfs } from './fake-kernel.js';
import { codeOfAsync } from '../../support/error-code.js';

const log = pino({ level: 'silent' });
let host: FakeHostTree | undefined;
afterEach(async () => host?.cleanup());

// Two NVMe sharing group 7 behind a root port (group 1), an unbound function in group 8.
const DEVICES: FakePciDevice[] = [
  pciDevice('0000:00:01.0', 'bridge', { class: '0x060400', driver: 'pcieport', iommuGroup: 7, attrs: { config: Buffer.from([...Array(14).fill(0), 0x01, 0]) } }),
  pciDevice('0000:01:00.0', 'nvme', { parent: '0000:00:01.0', iommuGroup: 7 }),
  pciDevice('0000:01:00.1', 'nvme', { parent: '0000:00:01.0', iommuGroup: 7 }),
  pciDevice('0000:02:00.0', 'nvme', { iommuGroup: 8, driver: undefined }),
];
const NATIVE = { '0000:01:00.0': 'nvme', '0000:01:00.1': 'nvme', '0000:02:00.0': 'nvme' };

async function setup(o: { vfioLoaded?: boolean; devices?: FakePciDevice[]; dev?: string[] } = {}): Promise<{ k: FakeKernelSysfs; deps: VfioDeps }> {
  host = await buildFakeHost({ pci: o.devices ?? DEVICES, dev: o.dev ?? [] });
  const k = new FakeKernelSysfs(host.sysRoot, host.devRoot, NATIVE);
  await k.makeDriver('nvme');
  if (o.vfioLoaded !== false) await k.makeDriver('vfio-pci');
  const deps: VfioDeps = { sysfs: k, log, stateDir: `${host.root}/state`, devRoot: host.devRoot, modprobe: (m) => k.modprobe(m), sleep: async () => {}, devWaitMs: 0 };
  return { k, deps };
}


describe('bindToVfio', () => {
  it('binds by driver_override, unbind and drivers_probe, never new_id, and the group node appears', async () => {
    const { k, deps } = await setup();
    const b = await bindToVfio(deps, 'job-1', [{ bdf: '0000:01:00.0', group: 7 }]);
    expect(k.writes).toEqual([
      'bus/pci/devices/0000:01:00.0/driver_override <- "vfio-pci"',
      'bus/pci/devices/0000:01:00.0/driver/unbind <- "0000:01:00.0"',
      'bus/pci/drivers_probe <- "0000:01:00.0"',
    ]);
    expect(await k.driverOf('0000:01:00.0')).toBe('vfio-pci');
    expect(existsSync(`${host!.devRoot}/vfio/7`)).toBe(true);
    expect(b.devices[0]).toMatchObject({ originalDriver: 'nvme', originalOverride: null, step: 'bound' });
  });

  it('writes the journal with the original driver before the first sysfs write', async () => {
    const { k, deps } = await setup();
    let seen: unknown;
    k.failOn = () => {
      seen ??= JSON.parse(readFileSync(journalPath(deps.stateDir, 'job-1'), 'utf8'));
      return undefined;
    };
    await bindToVfio(deps, 'job-1', [{ bdf: '0000:01:00.0', group: 7 }]);
    expect(seen).toMatchObject({ version: 1, job: 'job-1', devices: [{ bdf: '0000:01:00.0', originalDriver: 'nvme', step: 'recorded' }] });
  });

  it('restores the original driver, clears driver_override and removes the journal', async () => {
    const { k, deps } = await setup();
    const b = await bindToVfio(deps, 'job-1', [{ bdf: '0000:01:00.0', group: 7 }, { bdf: '0000:01:00.1', group: 7 }]);
    const report = await b.restore();
    expect(report.problems).toEqual([]);
    expect(await k.driverOf('0000:01:00.0')).toBe('nvme');
    expect(await k.driverOf('0000:01:00.1')).toBe('nvme');
    expect(await k.readText('bus/pci/devices/0000:01:00.0/driver_override')).toBe('(null)');
    expect(existsSync(b.journal)).toBe(false);
    expect(k.writes.some((w) => w.includes('new_id'))).toBe(false);
  });

  it('loads vfio-pci with modprobe when its driver is missing', async () => {
    const { k, deps } = await setup({ vfioLoaded: false });
    await bindToVfio(deps, 'job-1', [{ bdf: '0000:01:00.0', group: 7 }]);
    expect(k.writes[0]).toBe('modprobe vfio-pci');
    expect(await k.driverOf('0000:01:00.0')).toBe('vfio-pci');
  });

  it('fails with ERR_VFIO_BIND and leaves the device alone when vfio-pci cannot be loaded', async () => {
    const { k, deps } = await setup({ vfioLoaded: false });
    deps.modprobe = async () => {
      throw new Error('modprobe: FATAL: Module vfio-pci not found');
    };
    expect(await codeOfAsync(bindToVfio(deps, 'job-1', [{ bdf: '0000:01:00.0', group: 7 }]))).toBe('ERR_VFIO_BIND');
    expect(k.writes.filter((w) => w.startsWith('bus/pci/devices/0000:01:00.0/driver/'))).toEqual([]);
    expect(await k.driverOf('0000:01:00.0')).toBe('nvme');
    expect(existsSync(journalPath(deps.stateDir, 'job-1'))).toBe(false);
  });

  it('refuses to bind a PCI bridge', async () => {
    const { k, deps } = await setup();
    expect(await codeOfAsync(bindToVfio(deps, 'job-1', [{ bdf: '0000:00:01.0', group: 7 }]))).toBe('ERR_VFIO_BIND');
    expect(k.writes).toEqual([]);
  });

  it('leaves a device that was already on vfio-pci as it is, on bind and on restore', async () => {
    const { k, deps } = await setup({ devices: [pciDevice('0000:05:00.0', 'nvme', { driver: 'vfio-pci', iommuGroup: 9 })], dev: ['vfio/9'] });
    const b = await bindToVfio(deps, 'job-1', [{ bdf: '0000:05:00.0', group: 9 }]);
    expect(b.devices[0]).toMatchObject({ originalDriver: 'vfio-pci' });
    const report = await b.restore();
    expect(report).toMatchObject({ problems: [], devices: [] });
    expect(k.writes).toEqual([]);
    expect(await k.driverOf('0000:05:00.0')).toBe('vfio-pci');
  });

  it('binds a function that had no driver and restores it without leaving it on vfio-pci', async () => {
    const { k, deps } = await setup();
    const b = await bindToVfio(deps, 'job-1', [{ bdf: '0000:02:00.0', group: 8 }]);
    expect(k.writes).toEqual(['bus/pci/devices/0000:02:00.0/driver_override <- "vfio-pci"', 'bus/pci/drivers_probe <- "0000:02:00.0"']);
    const report = await b.restore();
    expect(report.problems).toEqual([]);
    expect(await k.driverOf('0000:02:00.0')).toBe('nvme');
  });

  it('restores the devices already bound when a later one fails midway, and names the failing one', async () => {
    const { k, deps } = await setup();
    k.failOn = (rel) => (rel === 'bus/pci/devices/0000:01:00.1/driver/unbind' ? Object.assign(new Error('EBUSY'), { code: 'EBUSY' }) : undefined);
    const err = await bindToVfio(deps, 'job-1', [{ bdf: '0000:01:00.0', group: 7 }, { bdf: '0000:01:00.1', group: 7 }]).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_VFIO_BIND')).toBe(true);
    expect((err as Error).message).toContain('0000:01:00.1');
    expect(await k.driverOf('0000:01:00.0')).toBe('nvme');
    expect(await k.driverOf('0000:01:00.1')).toBe('nvme');
    expect(await k.readText('bus/pci/devices/0000:01:00.1/driver_override')).toBe('(null)');
    expect(existsSync(journalPath(deps.stateDir, 'job-1'))).toBe(false);
  });

  it('restores a leftover journal at start as if the agent had crashed with the devices bound', async () => {
    const { k, deps } = await setup();
    await bindToVfio(deps, 'job-crashed', [{ bdf: '0000:01:00.0', group: 7 }, { bdf: '0000:01:00.1', group: 7 }]);
    const journal = journalPath(deps.stateDir, 'job-crashed');
    expect(existsSync(journal)).toBe(true);
    // The bind step's recovery, as the next agent start runs it for a job whose undo journal names it.
    await bindVfioStep(deps).recover!({ id: 'job-crashed', dir: '/nonexistent' }, log);
    expect(await k.driverOf('0000:01:00.0')).toBe('nvme');
    expect(await k.driverOf('0000:01:00.1')).toBe('nvme');
    expect(existsSync(journal)).toBe(false);
    await bindVfioStep(deps).recover!({ id: 'job-crashed', dir: '/nonexistent' }, log); // nothing left: a no-op
  });

  it('reports a device whose original driver does not come back, and keeps the journal for the next start', async () => {
    const { k, deps } = await setup();
    const b = await bindToVfio(deps, 'job-1', [{ bdf: '0000:01:00.0', group: 7 }]);
    delete (k as unknown as { native: Record<string, string> }).native['0000:01:00.0']; // nvme no longer claims it
    const report = await restoreJournal(deps, b.journal);
    expect(report.problems).toEqual(['0000:01:00.0 is on no driver instead of nvme after restore']);
    expect(existsSync(b.journal)).toBe(true);
  });
});
