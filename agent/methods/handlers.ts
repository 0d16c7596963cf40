import type { CallContext, Handlers } from '../api/index.js';
import type { JobManager, PlanInputs } from '../jobs/index.js';
import { makePlan } from '../jobs/index.js';
import type { Inventory, InstallRequestParsed, Plan } from '../protocol/index.js';
import { PROTOCOL_VERSION, XepaError } from '../protocol/index.js';
import type { FidelityInputs } from '../fidelity/index.js';
import { createFinishHandlers, type FinishHandlerDeps } from './finish-methods.js';

export interface HandlerDeps {
  agentId: string;
  version: string;
  fingerprint: string;
  jobs: JobManager;
  readInventory: () => Promise<Inventory>;
  accel: () => Promise<PlanInputs['accel']>;
  resolveDisks: PlanInputs['resolveDisks'];
  // The PCI side and protected set for a controller at these addresses; without it plans are raw.
  pci?: (peers: { remote?: string; local?: string }[]) => Promise<NonNullable<PlanInputs['pci']>>;
  // Host facts and probes for the plan's fidelity report, for the accelerator the VM will use (docs/fidelity.md).
  fidelity?: (req: InstallRequestParsed, accel: 'kvm' | 'tcg') => Promise<FidelityInputs>;
  // Refuses a firmware the request's ISO cannot boot when that ISO is already on the agent (agent/iso).
  isoFirmware?: (sha256: string, firmware: 'bios' | 'uefi') => Promise<unknown>;
  // finish, job.backup and disk.restore-partition-table; without it they answer ERR_INTERNAL.
  finish?: FinishHandlerDeps;
}

// The agent's implementation of the control method table.
export function createHandlers(d: HandlerDeps): Handlers {
  const plan = async (req: InstallRequestParsed, ctx?: CallContext): Promise<Plan> => {
    const pci = d.pci ? await d.pci(ctx?.peer ? [ctx.peer] : []) : undefined;
    const accel = await d.accel();
    const fidelity = d.fidelity ? await d.fidelity(req, req.vm.accel === 'auto' ? accel.accel : req.vm.accel) : undefined;
    const p = makePlan(req, { inventory: await d.readInventory(), accel, resolveDisks: d.resolveDisks, ...(pci ? { pci } : {}), ...(fidelity ? { fidelity } : {}) });
    await d.isoFirmware?.(req.iso.sha256, p.firmware);
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
    inventory: () => d.readInventory(),
    plan,
    install: async (req, ctx) => {
      const p = await plan(req, ctx);
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
