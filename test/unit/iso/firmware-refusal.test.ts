import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallContext } from '../../../agent/api/control.js';
import { cachedIsoFirmwareCheck, type BootCatalog } from '../../../agent/iso/index.js';
import { JobManager } from '../../../agent/jobs/index.js';
import { createHandlers } from '../../../agent/methods/index.js';
import { InstallRequest, methods, XepaError, type Inventory, type Plan } from '../../../agent/protocol/index.js';
import { jobEnv, type FakeRuntime } from '../../support/job-env.js';

const work = mkdtempSync(join(tmpdir(), 'xepa-iso-firmware-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const BIOS_ONLY: BootCatalog = { catalogSector: 33, entries: [{ platform: 'bios', platformId: 0, bootable: true, media: 'no-emulation', loadRba: 34, sectorCount: 4 }] };
const plan = (firmware: 'bios' | 'uefi'): Plan => ({
  hash: 'h', disks: [{ path: '/dev/loop7', name: 'loop7', serial: 'S1', sizeBytes: 1 << 26, via: 'raw' }],
  firmware, accel: 'tcg', accelReason: 'test', memoryMiB: 512, cpus: 1, diskBus: 'virtio', iommu: false, warnings: [],
});
const request = InstallRequest.parse({ iso: { url: 'http://127.0.0.1/x.iso', sha256: 'a'.repeat(64) }, disks: [{ path: '/dev/loop7' }] });

function runtime(catalog?: BootCatalog) {
  const calls: string[] = [];
  const rt: FakeRuntime = {
    log: pino({ level: 'silent' }),
    fetchIso: async () => {
      calls.push('fetch');
      return { path: '/isos/x.iso', sha256: 'a'.repeat(64), size: 10, reused: true };
    },
    ...(catalog ? { bootCatalog: async (path: string) => { calls.push(`catalog:${path}`); return catalog; } } : {}),
    prepareFirmware: async () => ({ mode: 'bios' }),
    startVm: async () => { calls.push('start'); throw new XepaError('ERR_QEMU_START', 'not in this test'); },
    claimDisks: async () => { calls.push('claim'); return { release: async () => undefined }; },
    verifyDisks: async () => [],
  };
  return { rt, calls };
}

describe('a firmware the ISO cannot boot', () => {
  it('fails the job ERR_ISO_FIRMWARE right after verifying, before any disk is claimed or QEMU started', async () => {
    const { rt, calls } = runtime(BIOS_ONLY);
    const job = new JobManager(join(work, 'jobs-a'), jobEnv(rt)).create(request, plan('uefi'));
    await job.done;
    expect(job.state).toBe('failed');
    expect(job.summary().error).toMatchObject({ code: 'ERR_ISO_FIRMWARE', message: 'this ISO has no UEFI boot entry (El Torito: BIOS only); use --firmware bios' });
    expect(calls).toEqual(['fetch', 'catalog:/isos/x.iso']);
    expect([...new Set(job.events.events.map((e) => e.state))]).toEqual(['planned', 'fetching', 'verifying', 'restoring', 'failed']);
  });

  it('goes on when the firmware has an entry, saying what the catalog offers', async () => {
    const { rt, calls } = runtime(BIOS_ONLY);
    const job = new JobManager(join(work, 'jobs-b'), jobEnv(rt)).create(request, plan('bios'));
    await job.done;
    expect(job.events.events.map((e) => e.message)).toContain('El Torito boot catalog: BIOS only; the VM boots it under BIOS');
    expect(calls.slice(0, 4)).toEqual(['fetch', 'catalog:/isos/x.iso', 'claim', 'start']);
  });
});

describe('the plan, when the ISO is already on the agent', () => {
  // A BIOS-only image: a primary volume descriptor, the El Torito boot record, a validation and an initial entry.
  function biosOnlyImage(): Buffer {
    const img = Buffer.alloc(22 * 2048);
    img.write('CD001', 16 * 2048 + 1, 'latin1');
    img.write('CD001', 17 * 2048 + 1, 'latin1');
    img[17 * 2048 + 6] = 1;
    img.write('EL TORITO SPECIFICATION', 17 * 2048 + 7, 'latin1');
    img.writeUInt32LE(20, 17 * 2048 + 71);
    const c = 20 * 2048;
    img[c] = 0x01;
    img[c + 30] = 0x55;
    img[c + 31] = 0xaa;
    let sum = 0;
    for (let i = 0; i < 32; i += 2) sum = (sum + img.readUInt16LE(c + i)) & 0xffff;
    img.writeUInt16LE((0x10000 - sum) & 0xffff, c + 28);
    img[c + 32] = 0x88;
    img.writeUInt32LE(21, c + 40);
    return img;
  }
  const isoDir = join(work, 'isos');
  const sha = 'b'.repeat(64);

  it('checks the cached copy by its digest (any case) and says nothing when there is none yet', async () => {
    mkdirSync(isoDir, { recursive: true });
    writeFileSync(join(isoDir, `${sha}.iso`), biosOnlyImage());
    const check = cachedIsoFirmwareCheck(isoDir);
    expect(await check(sha.toUpperCase(), 'bios')).toBe('BIOS only');
    await expect(check(sha, 'uefi')).rejects.toMatchObject({ code: 'ERR_ISO_FIRMWARE' });
    expect(await check('c'.repeat(64), 'uefi')).toBeUndefined();
  });

  it('refuses plan and install through the agent\'s handlers, and no job is created', async () => {
    const { rt } = runtime();
    const jobs = new JobManager(join(work, 'jobs-c'), jobEnv(rt));
    const inventory: Inventory = {
      hostname: 'srv', cpu: { model: 'x', vendor: 'x', cores: 4, threads: 8, virtualization: true, hypervisor: false },
      memory: { totalBytes: 32 * 2 ** 30, availableBytes: 30 * 2 ** 30 }, firmware: { mode: 'uefi' },
      kvm: { device: true, usable: true, reason: 'probe' }, iommu: { enabled: false, groups: 0 },
      disks: [{ name: 'loop7', path: '/dev/loop7', sizeBytes: 1 << 30, serial: 'S1', removable: false, readOnly: false, inUse: [] }], nics: [], pci: [],
    };
    const handlers = createHandlers({
      agentId: 'a', version: 't', fingerprint: 'f', jobs,
      snapshot: async () => ({ inventory }),
      accel: async () => ({ accel: 'tcg', reason: 'test' }),
      resolveDisks: (_s, disks) => disks,
      isoFirmware: cachedIsoFirmwareCheck(isoDir),
    });
    const ctx = { key: 'k', connectionId: 'c', send: () => undefined, onClose: () => undefined, log: pino({ level: 'silent' }) } as CallContext;
    const req = (firmware: string) => methods.install.params.parse({ iso: { url: 'https://m.example/os.iso', sha256: sha }, disks: [{ serial: 'S1' }], vm: { memoryMiB: 512, firmware } });
    await expect(handlers.plan(req('auto'), ctx)).rejects.toMatchObject({ code: 'ERR_ISO_FIRMWARE', message: 'this ISO has no UEFI boot entry (El Torito: BIOS only); use --firmware bios' });
    await expect(handlers.install(req('uefi'), ctx)).rejects.toMatchObject({ code: 'ERR_ISO_FIRMWARE' });
    expect((await handlers.plan(req('bios'), ctx)).firmware).toBe('bios');
    expect(jobs.list()).toEqual([]);
  });
});
