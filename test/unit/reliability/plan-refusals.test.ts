import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallContext } from '../../../agent/api/control.js';
import { resolveDisks } from '../../../agent/host/disks.js';
import { JobManager } from '../../../agent/jobs/index.js';
import { jobEnv, type FakeRuntime } from '../../support/job-env.js';
import { methods, XepaError, type DiskInfo, type Inventory } from '../../../agent/protocol/index.js';
import { createHandlers } from '../../../agent/methods/index.js';
import { silentLog } from '../api/fixtures.js';

// Plans and installs that name the wrong disk are refused with a code and a reason that names the disk, through
// the agent's real handlers and job registry — and no job is ever created for them.
const GiB = 1024 ** 3;
const disk = (name: string, serial: string, over: Partial<DiskInfo> = {}): DiskInfo => ({
  name, path: `/dev/${name}`, sizeBytes: 100 * GiB, serial, removable: false, readOnly: false, inUse: [], ...over,
});
const inventoryOf = (disks: DiskInfo[]): Inventory => ({
  hostname: 'srv', cpu: { model: 'x', vendor: 'x', cores: 4, threads: 8, virtualization: true, hypervisor: false },
  memory: { totalBytes: 32 * GiB, availableBytes: 30 * GiB }, firmware: { mode: 'bios' },
  kvm: { device: true, usable: true, reason: 'probe' }, iommu: { enabled: false, groups: 0 }, disks, nics: [], pci: [],
});
const notCalled = (): never => {
  throw new Error('no job may run in this test');
};
const runtime: FakeRuntime = {
  log: silentLog(), now: () => new Date(), fetchIso: notCalled, prepareFirmware: notCalled, startVm: notCalled, claimDisks: notCalled, verifyDisks: notCalled,
};

const work = mkdtempSync(join(tmpdir(), 'xepa-plan-refusals-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// The agent's handlers over a machine whose disks (and /dev links) the test sets.
function agentOver(machine: { disks: DiskInfo[] }) {
  const jobs = new JobManager(join(work, String(Math.random()).slice(2)), jobEnv(runtime));
  const handlers = createHandlers({
    agentId: 'a', version: 't', fingerprint: 'f', jobs,
    snapshot: async () => ({ inventory: inventoryOf(machine.disks) }),
    accel: async () => ({ accel: 'tcg', reason: 'test' }),
    resolveDisks: (selectors, disks) =>
      resolveDisks(selectors, disks, {
        realpath: (p) => {
          if (!machine.disks.some((d) => d.path === p)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
          return p;
        },
      }),
  });
  const ctx = { key: 'k', connectionId: 'c', send: () => undefined, onClose: () => undefined, log: silentLog() } as CallContext;
  const request = (disks: object[], extra: object = {}) =>
    methods.install.params.parse({ iso: { url: 'https://m.example/os.iso', sha256: 'a'.repeat(64) }, disks, vm: { memoryMiB: 512 }, ...extra });
  return { jobs, plan: (disks: object[]) => handlers.plan(request(disks), ctx), install: (disks: object[], extra: object = {}) => handlers.install(request(disks, extra), ctx) };
}

async function refusal(p: Promise<unknown>): Promise<XepaError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof XepaError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('plans and installs naming the wrong disk', () => {
  it('refuses a serial that no disk has with ERR_DEVICE_NOT_FOUND, listing the serials there are', async () => {
    const a = agentOver({ disks: [disk('sdb', 'AAA'), disk('sdc', 'BBB')] });
    const e = await refusal(a.install([{ serial: 'ZZZ' }]));
    expect(e.code).toBe('ERR_DEVICE_NOT_FOUND');
    expect(e.message).toMatch(/serial "ZZZ".*AAA \(sdb\), BBB \(sdc\)/);
    expect(a.jobs.list()).toEqual([]);
  });

  it('refuses a /dev path that does not exist with ERR_DEVICE_NOT_FOUND naming the path', async () => {
    const a = agentOver({ disks: [disk('sdb', 'AAA')] });
    const e = await refusal(a.plan([{ path: '/dev/sdq' }]));
    expect(e.code).toBe('ERR_DEVICE_NOT_FOUND');
    expect(e.message).toContain('/dev/sdq');
  });

  const protectedCases: [string, Partial<DiskInfo>, RegExp][] = [
    ['a disk with a mounted filesystem', { inUse: ['mounted at / (sda1)'] }, /mounted at \//],
    ['a swap disk', { inUse: ['swap (sda2)'] }, /swap/],
    ['a disk under an md/dm holder', { inUse: ['holder md0'] }, /holder md0/],
    ['a read-only disk (the rescue boot medium)', { readOnly: true }, /read-only/],
  ];
  for (const [what, over, reason] of protectedCases) {
    it(`refuses ${what} with ERR_DEVICE_PROTECTED and the reason`, async () => {
      const a = agentOver({ disks: [disk('sda', 'SYS', over)] });
      const e = await refusal(a.install([{ serial: 'SYS' }]));
      expect(e.code).toBe('ERR_DEVICE_PROTECTED');
      expect(e.message).toMatch(reason);
      expect(e.message).toContain('/dev/sda');
      expect(a.jobs.list()).toEqual([]);
    });
  }

  it('refuses an install by path whose /dev name moved to another disk since the plan (ERR_PLAN_CHANGED)', async () => {
    const machine = { disks: [disk('sdb', 'AAA'), disk('sdc', 'BBB')] };
    const a = agentOver(machine);
    const plan = await a.plan([{ path: '/dev/sdb' }]);
    expect(plan.disks[0]?.serial).toBe('AAA');
    machine.disks = [disk('sdb', 'BBB'), disk('sdc', 'AAA')]; // renumbered after a reboot or a hot-plug
    const e = await refusal(a.install([{ path: '/dev/sdb' }], { planHash: plan.hash }));
    expect(e.code).toBe('ERR_PLAN_CHANGED');
    expect(e.details).toEqual({ expected: plan.hash, changes: [{ subject: 'disk serial AAA', aspect: 'path', was: '/dev/sdb', now: '/dev/sdc' }] });
    expect(e.message).toContain('disk serial AAA: path was /dev/sdb, is now /dev/sdc');
    expect(a.jobs.list()).toEqual([]);
  });

  it('refuses a disk named by serial and a path that now belong to two different disks (ERR_DEVICE_NOT_FOUND)', async () => {
    const a = agentOver({ disks: [disk('sdb', 'BBB'), disk('sdc', 'AAA')] });
    const e = await refusal(a.install([{ serial: 'AAA', path: '/dev/sdb' }]));
    expect(e.code).toBe('ERR_DEVICE_NOT_FOUND');
    expect(e.message).toMatch(/serial "AAA" and path \/dev\/sdb/);
  });

  it('refuses an install by serial after the disk moved to another /dev name, since the plan changed', async () => {
    const machine = { disks: [disk('sdb', 'AAA')] };
    const a = agentOver(machine);
    const plan = await a.plan([{ serial: 'AAA' }]);
    machine.disks = [disk('sdc', 'AAA')];
    expect((await refusal(a.install([{ serial: 'AAA' }], { planHash: plan.hash }))).code).toBe('ERR_PLAN_CHANGED');
  });

  it('refuses the same disk named twice with ERR_BAD_REQUEST', async () => {
    const a = agentOver({ disks: [disk('sdb', 'AAA')] });
    const e = await refusal(a.plan([{ serial: 'AAA' }, { path: '/dev/sdb' }]));
    expect(e.code).toBe('ERR_BAD_REQUEST');
    expect(e.message).toMatch(/named twice/);
  });
});
