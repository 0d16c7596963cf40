import type { Sysfs } from '../host/index.js';
import type { InstallRequestParsed, Plan } from '../protocol/index.js';
import type { VmSpec } from '../vm/index.js';
import { buildAnswerMedium } from './answer-medium.js';
import { prepareGuestNic, type GuestNetIsolator } from './guest-nic.js';
import { readHostSmbios } from './host-facts.js';
import type { ToolRunner } from './run-tool.js';
import { writeSmbiosFiles } from './smbios-files.js';
import { startSwtpm, type RunningSwtpm } from './swtpm.js';

// The parts of a VmSpec that fidelity decides.
export type FidelitySpec = Pick<VmSpec, 'cpuModel' | 'smbios' | 'tpm' | 'nics' | 'answerMedia' | 'netns'>;

// What a job gets from prepareFidelity: its VmSpec parts, lines for its events, and what to undo afterwards.
export interface PreparedFidelity {
  spec: FidelitySpec;
  notes: string[];
  release(): Promise<void>;
}

// The outside world of prepareFidelity.
export interface PrepareFidelityDeps {
  sysfs: Sysfs;
  run: ToolRunner;
  startSwtpm?: (jobDir: string) => Promise<RunningSwtpm>;
  /** Extra `-smbios type=...` option strings (tests and operators: values on top of or instead of the host's). */
  smbiosFields?: string[];
  /** Per-job guest network namespaces for the emulated NIC; without it the NIC is restricted (no outbound). */
  guestNet?: GuestNetIsolator;
}

/**
 * Turns the plan's fidelity decisions into files and processes in the job directory: the host's SMBIOS
 * structures, the swtpm TPM, the answer medium; and the emulated NIC and CPU model. Whatever it started
 * is stopped by release(), also when a later step throws.
 */
export async function prepareFidelity(plan: Plan, req: InstallRequestParsed, jobDir: string, jobId: string, deps: PrepareFidelityDeps): Promise<PreparedFidelity> {
  const f = plan.fidelity;
  const spec: FidelitySpec = {};
  const notes: string[] = [];
  let tpm: RunningSwtpm | undefined;
  let releaseNic: (() => Promise<void>) | undefined;
  const release = async (): Promise<void> => {
    // The guest network comes down even when swtpm will not stop.
    const stopped = await tpm?.stop().then(() => undefined, (err: unknown) => err);
    await releaseNic?.();
    if (stopped !== undefined) throw stopped;
  };
  if (!f) return { spec, notes, release };
  try {
    spec.cpuModel = f.cpu.model;
    if (f.smbios.source === 'host') {
      const host = await readHostSmbios(deps.sysfs);
      if (host.table) {
        const smbios = await writeSmbiosFiles(host.table, jobDir, host.entryPoint, deps.smbiosFields);
        spec.smbios = smbios;
        notes.push(`SMBIOS: ${smbios.files.length} host structure(s) (types ${f.smbios.structures.join(', ')})`);
      } else notes.push(`SMBIOS: ${host.problem ?? 'the host table is gone'}; QEMU's own`);
    } else if (deps.smbiosFields?.length) {
      spec.smbios = { files: [], fields: deps.smbiosFields };
    }
    if (f.tpm.vm) {
      tpm = await (deps.startSwtpm ?? ((dir: string) => startSwtpm(dir)))(jobDir);
      spec.tpm = { socket: tpm.socket };
      notes.push(`TPM 2.0: swtpm pid ${tpm.pid}, state in the job directory`);
    }
    if (f.nic.mode === 'user' && f.nic.model) {
      // slirp in the job's own network namespace: the guest reaches out, never the rescue system (guest-nic.ts)
      const nic = await prepareGuestNic(f.nic, req, jobDir, jobId, deps.guestNet ? { isolator: deps.guestNet } : {});
      releaseNic = nic.release;
      spec.nics = [nic.nic];
      if (nic.netns) spec.netns = nic.netns;
      notes.push(...nic.notes);
    }
    if (req.answer) {
      const medium = await buildAnswerMedium(req.answer, jobDir, deps.run, `xepa-${jobId}`);
      spec.answerMedia = [medium];
      notes.push(`answer medium: ${f.answer?.label ?? ''} ${medium.format} with ${f.answer?.files ?? req.answer.files.length} file(s)`);
    }
  } catch (err) {
    await release();
    throw err;
  }
  return { spec, notes, release };
}
