// A job environment for unit tests: the agent's real install steps (agent/jobs/install-steps.ts, same order,
// same events, same unwinding), with the effects a test cannot have (download, QEMU, disks, vfio, sfdisk) taken
// from a fake runtime that records what the job did to the world.
import pino, { type Logger } from 'pino';
import type { JobEnv } from '../../agent/jobs/index.js';
import { installSteps } from '../../agent/jobs/index.js';
import { hostDevicesOf } from '../../agent/fidelity/index.js';
import { fetchIsoStep, type BootCatalog } from '../../agent/iso/index.js';
import type { InstallRequestParsed, Plan } from '../../agent/protocol/index.js';
import { XepaError } from '../../agent/protocol/index.js';
import type { JobStep } from '../../agent/steps/index.js';
import type { RunningVmHandle, VmFirmware, VmSpec } from '../../agent/vm/index.js';

/** The effects of an install, as a test fakes them. */
export interface FakeRuntime {
  log?: Logger;
  now?: () => Date;
  fetchIso(
    iso: { url: string; sha256: string; size?: number | undefined },
    opts: { signal: AbortSignal; reserveBytes: number; onProgress: (p: { bytes: number; total?: number | undefined }) => void },
  ): Promise<{ path: string; sha256: string; size: number; reused: boolean }>;
  // The fetched ISO's El Torito catalog (default: a BIOS and a UEFI boot entry, as hybrid installer ISOs have).
  bootCatalog?(path: string): Promise<BootCatalog>;
  prepareFirmware(mode: 'bios' | 'uefi', jobDir: string): Promise<VmFirmware>;
  startVm(spec: VmSpec): Promise<RunningVmHandle>;
  claimDisks(job: string, paths: string[]): Promise<{ release(): Promise<void> }>;
  // The disks after the VM: the problems found (none: all back).
  verifyDisks(plan: Plan): Promise<string[]>;
  prepareFidelity?(job: { id: string; dir: string; plan: Plan; request: InstallRequestParsed }): Promise<{ spec: Partial<VmSpec>; notes: string[]; release(): Promise<void> }>;
  backupPartitionTables?(jobDir: string, plan: Plan): Promise<{ disk: string; serial?: string; sfdisk?: string }[]>;
  bindVfio?(job: string, devices: { bdf: string; group: number }[]): Promise<{ release(): Promise<void> }>;
}

const HYBRID: BootCatalog = {
  catalogSector: 33,
  entries: [
    { platform: 'bios', platformId: 0, bootable: true, media: 'no-emulation', loadRba: 34, sectorCount: 4 },
    { platform: 'uefi', platformId: 0xef, bootable: true, media: 'no-emulation', loadRba: 40, sectorCount: 0 },
  ],
};

// A step that stands in for one of the real ones, by name.
const standIn = (name: string, run: JobStep['run']): JobStep => ({ name, run });

/** The JobEnv of the real steps over `rt`. */
export function jobEnv(rt: FakeRuntime): JobEnv {
  const log = rt.log ?? pino({ level: 'silent' });
  let jobId = '';
  const fetch: NonNullable<Parameters<typeof fetchIsoStep>[0]['fetch']> = (req, deps) =>
    rt.fetchIso({ url: req.url, sha256: req.sha256, size: req.size }, {
      signal: deps.signal ?? new AbortController().signal,
      reserveBytes: deps.budget?.reserveBytes ?? 0,
      onProgress: (p) => deps.onProgress?.({ bytes: p.bytes, ...(p.total !== undefined ? { total: p.total } : {}) } as never),
    });
  const real = installSteps({
    log,
    isoDir: '/nonexistent',
    listDisks: async () => [],
    run: async () => ({ code: 1, stdout: '', stderr: 'no tools in unit tests' }),
    backup: async (jobDir, plan) => (await rt.backupPartitionTables?.(jobDir, plan)) ?? [],
    guestNet: { isolate: async () => { throw new XepaError('ERR_UNAVAILABLE', 'no guest network in unit tests'); } } as never,
    fetch,
    claim: (paths) => rt.claimDisks(jobId, paths),
    ...(rt.bindVfio
      ? { bind: async (job: string, devices: { bdf: string; group: number }[]) => {
          const held = await rt.bindVfio!(job, devices);
          return { restore: async () => { await held.release(); return { job, devices: [], problems: [] }; } };
        } }
      : {}),
    startVm: (spec) => rt.startVm(spec),
    prepareFirmware: (mode, dir) => rt.prepareFirmware(mode, dir),
  });
  const replaced: Record<string, JobStep> = {
    // The real fetch step over the fake download, its ISO's boot catalog from the runtime (the file is not real).
    'fetch-iso': fetchIsoStep({ isoDir: '/nonexistent', fetch, readCatalog: (path) => rt.bootCatalog?.(path) ?? Promise.resolve(HYBRID) }) as JobStep,
    'disks-back': standIn('disks-back', async (ctx) => async () => {
      const problems = await rt.verifyDisks(ctx.job.plan);
      if (problems.length > 0) throw new XepaError('ERR_DEVICE_NOT_FOUND', `after the VM: ${problems.join('; ')}`);
      ctx.emit('restoring', `devices restored; ${ctx.job.plan.disks.length} disk(s) checked back`);
    }),
    ...(rt.prepareFidelity
      ? { 'prepare-fidelity': standIn('prepare-fidelity', async (ctx) => {
          const prepared = await rt.prepareFidelity!({ id: ctx.job.id, dir: ctx.job.dir, plan: ctx.job.plan, request: ctx.job.request });
          Object.assign((ctx.values as { spec: Partial<VmSpec> }).spec, prepared.spec, hostDevicesOf(ctx.job.plan));
          for (const note of prepared.notes) ctx.emit('booting', note);
          return () => prepared.release();
        }) }
      : {}),
    'claim-disks': standIn('claim-disks', async (ctx) => {
      jobId = ctx.job.id;
      return real.find((s) => s.name === 'claim-disks')!.run(ctx as never);
    }),
  };
  return { log, now: rt.now ?? (() => new Date()), steps: real.map((s) => (replaced[s.name] as typeof s | undefined) ?? s) };
}
