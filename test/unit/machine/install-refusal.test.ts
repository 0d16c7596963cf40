import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallContext } from '../../../agent/api/control.js';
import { resolveDisks } from '../../../agent/host/index.js';
import { JobManager } from '../../../agent/jobs/index.js';
import { takeSnapshot } from '../../../agent/machine/index.js';
import { createHandlers } from '../../../agent/methods/index.js';
import { type FakeHost, type FakeHostTree, nvmeDisk, pciDevice } from '../host/fake-sysfs.js';
import { XepaError, methods } from '../../../agent/protocol/index.js';
import { xepaFailure } from '../../support/error-code.js';
import { jobEnv, type FakeRuntime } from '../../support/job-env.js';
import { silentLog } from '../api/fixtures.js';
import { addrsOf, build, pciServer } from '../pci/fake-pci-host.js';

// install re-reads the machine (one fresh snapshot) and refuses, naming what changed, when the plan the caller
// reviewed rested on facts that no longer hold: a disk's controller, a PCI address, a vanished disk, an IOMMU
// group. The machines are fake sysfs/procfs/dev trees with the real shape; the agent's real handlers plan them.
const trees: FakeHostTree[] = [];
const work = mkdtempSync(join(tmpdir(), 'xepa-install-refusal-'));
afterAll(async () => {
  await Promise.all(trees.map((t) => t.cleanup()));
  rmSync(work, { recursive: true, force: true });
});

const SERIAL = 'S5P2NG0R100002'; // nvme1n1 behind 0000:02:00.0, alone in IOMMU group 3 of pciServer()
const server = pciServer();
const base = server.block!.filter((b) => b.name !== 'nvme1n1');

// The same server with nvme1n1's controller changed: `pci` replaces 0000:02:00.0, the disk sits behind `bdf`.
function withController(devices: ReturnType<typeof pciDevice>[], bdf: string): FakeHost {
  return pciServer({
    pci: [...server.pci!.filter((d) => d.bdf !== '0000:02:00.0'), ...devices],
    block: [...base, nvmeDisk({ name: 'nvme1n1', bdf, dev: '259:3', serial: SERIAL, sizeSectors: 1953525168 })],
  });
}

// The job never gets past its download here: it waits to be cancelled (the test ends it with shutdown()).
const runtime: FakeRuntime = {
  log: silentLog(),
  fetchIso: (_iso, o) => new Promise((_resolve, reject) => o.signal.addEventListener('abort', () => reject(new XepaError('ERR_CANCELLED', 'cancelled')))),
  prepareFirmware: () => Promise.reject(new Error('not reached')),
  startVm: () => Promise.reject(new Error('not reached')),
  claimDisks: () => Promise.reject(new Error('not reached')),
  verifyDisks: async () => [],
};

// The agent's handlers over whichever fake machine `machine.tree` is now.
async function agentOn(first: FakeHost) {
  const machine = { tree: await build(first, trees) };
  const jobs = new JobManager(join(work, String(Math.random()).slice(2)), jobEnv(runtime));
  const handlers = createHandlers({
    agentId: 'a', version: 't', fingerprint: 'f', jobs,
    snapshot: (peers) => {
      const t = machine.tree;
      return takeSnapshot({ sysfs: t.sysfs, procfs: t.procfs, devRoot: t.devRoot, log: silentLog(), networkInterfaces: addrsOf('eth0', '192.0.2.10') }, peers);
    },
    accel: async () => ({ accel: 'tcg', reason: 'test' }),
    resolveDisks: (selectors, disks) => resolveDisks(selectors, disks, { devRoot: machine.tree.devRoot }),
  });
  const ctx = { key: 'k', connectionId: 'c', send: () => undefined, onClose: () => undefined, log: silentLog(), peer: { remote: '192.0.2.1', local: '192.0.2.10' } } as CallContext;
  const request = (extra: object = {}) =>
    methods.install.params.parse({ iso: { url: 'https://m.example/os.iso', sha256: 'a'.repeat(64) }, disks: [{ serial: SERIAL }], vm: { memoryMiB: 512 }, ...extra });
  return {
    jobs,
    plan: () => handlers.plan(request(), ctx),
    install: (planHash: string) => handlers.install(request({ planHash }), ctx),
    moveTo: async (next: FakeHost) => void (machine.tree = await build(next, trees)),
  };
}

// Plans nvme1n1 on pciServer(), then lets the machine become `next` and installs with the plan's hash: the
// refusal, which must be ERR_PLAN_CHANGED with no job created.
async function refusedAfter(next: FakeHost): Promise<{ error: XepaError; hash: string }> {
  const a = await agentOn(server);
  const plan = await a.plan();
  await a.moveTo(next);
  const error = await xepaFailure(a.install(plan.hash));
  expect(error.code).toBe('ERR_PLAN_CHANGED');
  expect(a.jobs.list()).toEqual([]);
  return { error, hash: plan.hash };
}

describe('install on a fresh snapshot of the machine', () => {
  it('starts the job when nothing the plan relied on changed', async () => {
    const a = await agentOn(server);
    const plan = await a.plan();
    expect(plan.disks).toEqual([expect.objectContaining({ name: 'nvme1n1', via: 'vfio', pciAddress: '0000:02:00.0' })]);
    expect(plan.passthrough?.bind).toEqual([{ bdf: '0000:02:00.0', group: 3 }]);
    await a.moveTo(pciServer()); // the same machine, read again from a new tree
    const job = await a.install(plan.hash);
    expect(job.plan?.hash).toBe(plan.hash);
    expect(a.jobs.list()).toHaveLength(1);
    await a.jobs.shutdown();
  });

  it('refuses when the disk now sits behind another controller (ERR_PLAN_CHANGED naming the controller)', async () => {
    const { error, hash } = await refusedAfter(withController([pciDevice('0000:02:00.0', 'nvme', { iommuGroup: 3 }), pciDevice('0000:04:00.0', 'nvme', { iommuGroup: 7 })], '0000:04:00.0'));
    expect(error.message).toContain(`disk serial ${SERIAL}: controller was 0000:02:00.0, is now 0000:04:00.0`);
    expect(error.details).toEqual({ expected: hash, changes: [{ subject: `disk serial ${SERIAL}`, aspect: 'controller', was: '0000:02:00.0', now: '0000:04:00.0' }] });
  });

  it('refuses when the controller moved to another PCI address, naming the address that vanished', async () => {
    const { error, hash } = await refusedAfter(withController([pciDevice('0000:05:00.0', 'nvme', { iommuGroup: 3 })], '0000:05:00.0'));
    expect(error.details).toEqual({
      expected: hash,
      changes: [
        { subject: `disk serial ${SERIAL}`, aspect: 'controller', was: '0000:02:00.0', now: '0000:05:00.0' },
        { subject: 'PCI device 0000:02:00.0', aspect: 'presence', was: 'present', now: 'absent' },
        { subject: 'IOMMU group 3', aspect: 'members', was: '0000:02:00.0', now: '0000:05:00.0' },
      ],
    });
    expect(error.message).toContain('PCI device 0000:02:00.0 vanished');
  });

  it('refuses when the planned disk vanished, naming it (not a bare "no disk matches")', async () => {
    const { error, hash } = await refusedAfter(pciServer({ block: base }));
    expect(error.message).toContain(`disk serial ${SERIAL} vanished`);
    expect(error.details).toEqual({ expected: hash, changes: [{ subject: `disk serial ${SERIAL}`, aspect: 'presence', was: 'present', now: 'absent' }] });
  });

  it('refuses when the IOMMU group the plan binds gained a member', async () => {
    const { error } = await refusedAfter(pciServer({ pci: [...server.pci!, pciDevice('0000:02:00.1', 'nvme', { iommuGroup: 3 })] }));
    expect(error.message).toContain('IOMMU group 3: members was 0000:02:00.0, is now 0000:02:00.0, 0000:02:00.1');
  });

  it('refuses when the controller moved to another IOMMU group', async () => {
    const { error, hash } = await refusedAfter(withController([pciDevice('0000:02:00.0', 'nvme', { iommuGroup: 9 })], '0000:02:00.0'));
    expect(error.details).toEqual({
      expected: hash,
      changes: [
        { subject: 'PCI device 0000:02:00.0', aspect: 'IOMMU group', was: '3', now: '9' },
        { subject: 'IOMMU group 3', aspect: 'members', was: '0000:02:00.0', now: 'none' },
      ],
    });
  });

  it('falls back to the hash for a plan it does not remember (made before a restart): ERR_PLAN_CHANGED', async () => {
    const a = await agentOn(server);
    const plan = await a.plan();
    const b = await agentOn(withController([pciDevice('0000:02:00.0', 'nvme', { iommuGroup: 9 })], '0000:02:00.0'));
    const e = await xepaFailure(b.install(plan.hash));
    expect(e.code).toBe('ERR_PLAN_CHANGED');
    expect(e.details).toEqual({ expected: plan.hash, actual: expect.any(String) });
    expect(b.jobs.list()).toEqual([]);
  });
});
