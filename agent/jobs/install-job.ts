import type { Logger } from 'pino';
import type { InstallRequestParsed, JobState, JobSummary, Plan } from '../protocol/index.js';
import { isXepaError, redactUrlsDeep, toWireError } from '../protocol/index.js';
import type { JobStep, StepContext } from '../steps/index.js';
import { VM_STOP_GRACE_MS, vmPaths, type RunningVmHandle } from '../vm/index.js';
import type { InstallValues } from './install-steps.js';
import type { JobLog } from './job-log.js';
import { runSteps } from './pipeline.js';

/** What every install job runs with: its steps (install-steps.ts), a logger and a clock. */
export interface JobEnv {
  log: Logger;
  now: () => Date;
  steps: readonly JobStep<InstallValues>[];
}

// One install (DESIGN §2): the steps in order (fetch → verify → bind/claim → boot → run until the guest powers
// off), then their undos in reverse (pipeline.ts), whatever ended the job (done, failure, cancel, shutdown).
export class InstallJob {
  state: JobState = 'planned';
  private readonly createdAt: string;
  private updatedAt: string;
  private error: ReturnType<typeof toWireError> | undefined;
  private readonly abort = new AbortController();
  private readonly values: InstallValues = { spec: {} };
  private cancelRequested = false;
  private readonly log: Logger;
  readonly done: Promise<void>;
  private startRun!: () => void;

  constructor(
    readonly id: string,
    readonly dir: string,
    readonly request: InstallRequestParsed,
    readonly plan: Plan,
    readonly events: JobLog,
    private readonly env: JobEnv,
  ) {
    this.createdAt = env.now().toISOString();
    this.updatedAt = this.createdAt;
    this.log = env.log.child({ job: id });
    this.emit('planned', `job created: ${plan.disks.map((d) => d.path).join(', ')} via ${plan.disks[0]?.via ?? 'raw'}, ${plan.accel}, ${plan.firmware}`, { detail: { plan } });
    this.done = new Promise<void>((resolve) => (this.startRun = resolve)).then(() => this.run());
  }

  // Starts the job (separate from construction so the caller can register it first).
  start(): void {
    this.startRun();
  }

  // Where the job's consoles are: unix sockets in the job directory, owned by the agent only.
  get consoles(): { vnc: string; qmp: string; serial: string[] } {
    const p = vmPaths(this.dir);
    return { vnc: p.vnc, qmp: p.qmp, serial: p.serial };
  }

  // QEMU's log of each serial port (kept even with nobody attached): the consoles' scrollback source.
  get serialLogs(): string[] {
    return vmPaths(this.dir).serialLogs;
  }

  // The running VM's console handle (its QMP connection) while QEMU runs; undefined before boot and after exit.
  vmConsole(): { pid: number; qmp: NonNullable<RunningVmHandle['qmp']> } | undefined {
    const vm = this.values.vm;
    const qmp = vm?.qmp;
    if (!vm || !qmp || qmp.closed || this.values.exit) return undefined;
    return { pid: vm.pid, qmp };
  }

  // The job as `job.get` reports it.
  summary(): JobSummary {
    const s: JobSummary = {
      id: this.id,
      state: this.state,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      lastSeq: this.events.lastSeq,
      plan: this.plan,
      accel: this.plan.accel,
      consoles: this.consoles,
    };
    if (this.error) s.error = this.error;
    return s;
  }

  // Asks the job to stop; the job still passes through restoring before it ends `cancelled`.
  cancel(): void {
    if (this.cancelRequested || this.ending()) return;
    this.cancelRequested = true;
    this.emit(this.state, 'cancel requested');
    this.abort.abort(); // the running step stops early; a running VM is stopped (wait-step.ts)
  }

  // `finish` on a job whose VM still runs: stop it; the job restores its devices and ends done.
  stopForFinish(): void {
    if (this.values.stopForFinish || this.cancelRequested || this.ending()) return;
    this.values.stopForFinish = true;
    this.emit(this.state, 'finish requested: stopping the VM');
    const vm = this.values.vm;
    if (vm) void vm.stop(VM_STOP_GRACE_MS).catch((err: unknown) => this.log.warn({ err }, 'stopping the VM failed'));
    else this.abort.abort();
  }

  // The message of the error that ended the job, if one did.
  errorMessage(): string | undefined {
    return this.error?.message;
  }

  private ending(): boolean {
    return ['done', 'failed', 'cancelled', 'restoring'].includes(this.state);
  }

  private emit(state: JobState, message: string, extra: { progress?: number; detail?: Record<string, unknown> } = {}): void {
    this.state = state;
    this.updatedAt = this.env.now().toISOString();
    this.events.append(state, message, extra); // URLs are redacted there, the one door to every outlet
    this.log.info({ state, ...(extra.progress !== undefined ? { progress: extra.progress } : {}) }, this.events.events.at(-1)?.message ?? '');
  }

  private async run(): Promise<void> {
    const ctx: StepContext<InstallValues> = {
      job: { id: this.id, dir: this.dir, request: this.request, plan: this.plan },
      log: this.log,
      now: this.env.now,
      signal: this.abort.signal,
      values: this.values,
      state: () => this.state,
      emit: (state, message, extra) => this.emit(state, message, extra),
    };
    const { error, undoError } = await runSteps(this.env.steps, ctx, () => this.emit('restoring', 'restoring devices'));
    let outcome: 'done' | 'failed' | 'cancelled' = 'done';
    let endMessage = this.values.endMessage ?? 'install finished: the guest powered off';
    if (error !== undefined) {
      outcome = isXepaError(error, 'ERR_CANCELLED') || this.cancelRequested ? 'cancelled' : 'failed';
      this.error = redactUrlsDeep(toWireError(error)); // job.get and the last event: no URL as given
      endMessage = outcome === 'cancelled' ? 'job cancelled' : `install failed: ${this.error.message}`;
      this.log.warn({ err: this.error }, endMessage);
    }
    if (undoError !== undefined) {
      outcome = 'failed';
      this.error ??= redactUrlsDeep(toWireError(undoError));
      endMessage = `restore failed: ${toWireError(undoError).message}`;
    }
    this.emit(outcome, endMessage, this.error ? { detail: { error: this.error } } : {});
  }
}
