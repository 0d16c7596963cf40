import type { CallContext, Handlers } from '../api/index.js';
import type { JobManager, PlanInputs } from '../jobs/index.js';
import { makePlan } from '../jobs/index.js';
import { type MachineSnapshot, PlanMemory, assertPlanHolds, planBasis } from '../machine/index.js';
import type { ControllerPeer } from '../pci/index.js';
import type { InstallRequestParsed, Plan } from '../protocol/index.js';
import { PROTOCOL_VERSION, XepaError } from '../protocol/index.js';
import type { FidelityInputs } from '../fidelity/index.js';
import { createFinishHandlers, type FinishHandlerDeps } from './finish-methods.js';

export interface HandlerDeps {
  agentId: string;
  version: string;
  fingerprint: string;
  jobs: JobManager;
  // The machine, read once per request for a controller at these addresses (agent/machine); a snapshot without
  // its PCI side makes raw plans.
  snapshot: (peers: ControllerPeer[]) => Promise<MachineSnapshot>;
  accel: () => Promise<PlanInputs['accel']>;
  resolveDisks: PlanInputs['resolveDisks'];
  // Host facts and probes for the plan's fidelity report, for the accelerator the VM will use (docs/fidelity.md).
  fidelity?: (req: InstallRequestParsed, accel: 'kvm' | 'tcg') => Promise<FidelityInputs>;
  // Refuses a firmware the request's ISO cannot boot when that ISO is already on the agent (agent/iso).
  isoFirmware?: (sha256: string, firmware: 'bios' | 'uefi') => Promise<unknown>;
  // finish, job.backup and disk.restore-partition-table; without it they answer ERR_INTERNAL.
  finish?: FinishHandlerDeps;
}

// The agent's implementation of the control method table.
export function createHandlers(d: HandlerDeps): Handlers {
  const plans = new PlanMemory();
  const snapshotFor = (ctx?: CallContext): Promise<MachineSnapshot> => d.snapshot(ctx?.peer ? [ctx.peer] : []);
  // The plan of `req` on one snapshot: disks, PCI side and memory all come from it.
  const planOn = async (req: InstallRequestParsed, snap: MachineSnapshot): Promise<Plan> => {
    const accel = await d.accel();
    const fidelity = d.fidelity ? await d.fidelity(req, req.vm.accel === 'auto' ? accel.accel : req.vm.accel) : undefined;
    const { inventory, pci } = snap;
    const p = makePlan(req, { inventory, accel, resolveDisks: d.resolveDisks, ...(pci ? { pci } : {}), ...(fidelity ? { fidelity } : {}) });
    if (req.vm.bootOrder !== 'disk-first') await d.isoFirmware?.(req.iso.sha256, p.firmware); // disk-first: the CD need not boot
    return p;
  };
  const plan = async (req: InstallRequestParsed, ctx?: CallContext): Promise<Plan> => {
    const snap = await snapshotFor(ctx);
    const p = await planOn(req, snap);
    plans.remember(p, planBasis(p, snap));
    return p;
  };

  const unconfigured = async (): Promise<never> => {
    throw new XepaError('ERR_INTERNAL', 'this agent is not set up for finish (no finish dependencies)');
  };
  const finishMethods = d.finish ? createFinishHandlers(d.jobs, d.finish) : { 'job.backup': unconfigured, finish: unconfigured, 'disk.restore-partition-table': unconfigured };
  return {
    ...finishMethods,
    hello: async (p) => {
      if (p.protocol !== PROTOCOL_VERSION) {
        throw new XepaError('ERR_PROTOCOL_VERSION', `protocol ${p.protocol} is not supported: this agent speaks ${PROTOCOL_VERSION}`);
      }
      return { protocol: PROTOCOL_VERSION, agentId: d.agentId, version: d.version, fingerprint: d.fingerprint };
    },
    inventory: async (_params, ctx) => (await snapshotFor(ctx)).inventory,
    plan,
    install: async (req, ctx) => {
      // A fresh snapshot: what the caller's plan relied on must still hold in it (ERR_PLAN_CHANGED names what
      // changed), and the job runs the plan made from it, which must hash like the caller's.
      const snap = await snapshotFor(ctx);
      const earlier = req.planHash === undefined ? undefined : plans.recall(req.planHash);
      if (earlier) assertPlanHolds(earlier, snap);
      const p = await planOn(req, snap);
      if (req.forceProtected !== undefined && p.passthrough?.forced?.length) {
        ctx.log.warn({ forceProtected: req.forceProtected, forced: p.passthrough.forced }, 'FORCED: install binds protected devices');
      }
      if (req.planHash !== undefined && req.planHash !== p.hash) {
        throw new XepaError('ERR_PLAN_CHANGED', 'the machine changed since the plan was made: plan again and review it', {
          details: { expected: req.planHash, actual: p.hash },
        });
      }
      return d.jobs.create(req, p).summary();
    },
    'job.get': async ({ job }) => d.jobs.get(job).summary(),
    'job.list': async () => ({ jobs: d.jobs.list() }),
    'job.events': async ({ job, after }, ctx) => {
      const j = d.jobs.get(job);
      const replayed = Math.max(0, j.events.lastSeq - after);
      const stop = d.jobs.follow(job, after, (e) => ctx.send({ event: 'job.event', data: e }));
      ctx.onClose(stop);
      return { job, replayed, lastSeq: j.events.lastSeq };
    },
    'job.cancel': async ({ job }) => {
      const j = d.jobs.get(job);
      j.cancel();
      return j.summary();
    },
  };
}
