import { join } from 'node:path';
import type { Logger } from 'pino';
import type { InstallRequestParsed, PlanFidelity } from '../protocol/index.js';
import { toWireError } from '../protocol/index.js';
import { ANSWER_URL_HOST, type VmNic } from '../vm/index.js';
import { answerFiles } from './answer-files.js';
import { serveAnswerFiles } from './answer-http.js';

// Isolates one job's guest network (agent/vm GuestNetworks is the real one).
export interface GuestNetIsolator {
  // `record`: a file in the job directory that lets recover() take the network down after a crash.
  isolate(jobId: string, record?: string): Promise<{ netns: string; release(): Promise<void> }>;
  recover?(jobId: string, record: string): Promise<void>;
}

// Where a job's guest network is recorded for recovery after a crash.
export const guestNetRecord = (jobDir: string): string => join(jobDir, 'guest-net.json');

// The emulated NIC of a job, the namespace QEMU runs in, event lines, and what to undo afterwards.
export interface PreparedGuestNic {
  nic: VmNic;
  netns?: string;
  notes: string[];
  release(): Promise<void>;
}

/**
 * The user-networking NIC of a job (docs/reliability.md, "Attack classes"): QEMU's slirp runs in a per-job
 * network namespace (outbound NAT, no path to any of the rescue system's addresses); the request's answer files
 * are also served at http://10.0.2.100/<path> to this guest alone. Without isolation (no `isolator`, or it
 * fails: tools missing) the guest gets no outbound network at all (slirp restrict=on) and a warning says so:
 * never an open path to the rescue system.
 */
export async function prepareGuestNic(
  nicPlan: PlanFidelity['nic'],
  req: InstallRequestParsed,
  jobDir: string,
  jobId: string,
  deps: { isolator?: GuestNetIsolator; log?: Logger },
): Promise<PreparedGuestNic> {
  const nic: VmNic = { model: nicPlan.model === 'virtio-net-pci' ? 'virtio-net-pci' : 'e1000e', ...(nicPlan.mac ? { mac: nicPlan.mac } : {}) };
  const notes: string[] = [];
  const undo: (() => Promise<void>)[] = [];
  const release = async (): Promise<void> => {
    let failure: unknown;
    for (const u of undo.reverse()) await u().catch((err: unknown) => (failure ??= err));
    undo.length = 0;
    if (failure !== undefined) throw failure;
  };
  try {
    if (req.answer) {
      const http = await serveAnswerFiles(answerFiles(req.answer, `xepa-${jobId}`), join(jobDir, 'answer-http.sock'), deps.log);
      undo.push(() => http.close());
      nic.answerSocket = http.socket;
      notes.push(`answer files also at http://${ANSWER_URL_HOST}/<path> (this guest only)`);
    }
    let netns: string | undefined;
    if (deps.isolator) {
      try {
        const net = await deps.isolator.isolate(jobId, guestNetRecord(jobDir));
        undo.push(() => net.release());
        netns = net.netns;
      } catch (err) {
        nic.restrict = true;
        notes.push(`WARNING: guest network isolation failed (${toWireError(err).message}): the installer gets no outbound network (slirp restrict=on)`);
      }
    } else {
      nic.restrict = true;
      notes.push('WARNING: this agent cannot isolate guest networks: the installer gets no outbound network (slirp restrict=on)');
    }
    if (netns) notes.push(`NIC: ${nic.model} on user networking (NAT) in network namespace ${netns}: outbound only, no path to this rescue system${nic.mac ? `, MAC ${nic.mac}` : ''}`);
    else notes.push(`NIC: ${nic.model} on user networking, restricted${nic.mac ? `, MAC ${nic.mac}` : ''}`);
    return { nic, ...(netns ? { netns } : {}), notes, release };
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
}
