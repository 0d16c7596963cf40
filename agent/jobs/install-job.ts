import { join } from 'node:path';
import type { Logger } from 'pino';
import type { InstallRequestParsed, JobState, JobSummary, Plan } from '../protocol/index.js';
import { XepaError, isXepaError, toWireError } from '../protocol/index.js';
import type { JobLog } from './job-log.js';
import type { JobRuntime, RunningVmHandle, VmSpecInput } from './runtime.js';

const STOP_GRACE_MS = 10_000;

// One install (DESIGN §2): fetch → verify → claim disks → boot → run until the guest powers off → restore.
// Restoring always runs, whatever ended the job (done, failure, cancel).
export class InstallJob {
  state: JobState = 'planned';
  private readonly createdAt: string;
  private updatedAt: string;
  private error: ReturnType<typeof toWireError> | undefined;
  private readonly abort = new AbortController();
  private vm: RunningVmHandle | undefined;
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
    private readonly rt: JobRuntime,
  ) {
    this.createdAt = rt.now().toISOString();
    this.updatedAt = this.createdAt;
    this.log = rt.log.child({ job: id });
    this.emit('planned', `job created: ${plan.disks.map((d) => d.path).join(', ')} via ${plan.disks[0]?.via ?? 'raw'}, ${plan.accel}, ${plan.firmware}`, { detail: { plan } });
    this.done = new Promise<void>((resolve) => (this.startRun = resolve)).then(() => this.run());
  }

  // Starts the job (separate from construction so the caller can register it first).
  start(): void {
    this.startRun();
  }

  // Where the job's consoles are: unix sockets in the job directory, owned by the agent only.
  get consoles(): { vnc: string; qmp: string; serial: string[] } {
    return { vnc: join(this.dir, 'vnc.sock'), qmp: join(this.dir, 'qmp.sock'), serial: [join(this.dir, 'serial0.sock'), join(this.dir, 'serial1.sock')] };
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
    if (this.cancelRequested || ['done', 'failed', 'cancelled', 'restoring'].includes(this.state)) return;
    this.cancelRequested = true;
    this.emit(this.state, 'cancel requested');
    this.abort.abort();
    if (this.vm) void this.vm.stop(STOP_GRACE_MS).catch((err) => this.log.warn({ err }, 'stopping the VM failed'));
  }

  private emit(state: JobState, message: string, extra: { progress?: number; detail?: Record<string, unknown> } = {}): void {
    this.state = state;
    this.updatedAt = this.rt.now().toISOString();
    this.events.append(state, message, extra);
    this.log.info({ state, ...(extra.progress !== undefined ? { progress: extra.progress } : {}) }, message);
  }

  private checkCancelled(): void {
    if (this.cancelRequested) throw new XepaError('ERR_CANCELLED', 'job cancelled');
  }

  private async run(): Promise<void> {
    let releaseDisks: (() => Promise<void>) | undefined;
    let outcome: 'done' | 'failed' | 'cancelled' = 'done';
    let endMessage = 'install finished: the guest powered off';
    try {
      const iso = await this.fetch();
      this.checkCancelled();
      this.emit('binding', `claiming ${this.plan.disks.length} disk(s) exclusively (raw block devices)`);
      const claim = await this.rt.claimDisks(this.id, this.plan.disks.map((d) => d.path));
      releaseDisks = claim.release;
      this.checkCancelled();
      const exit = await this.boot(iso);
      if (this.cancelRequested) throw new XepaError('ERR_CANCELLED', 'job cancelled');
      if (exit.shutdownReason !== 'guest-shutdown' && exit.code !== 0) {
        throw new XepaError('ERR_QEMU_EXIT', `QEMU ended with ${exit.signal ?? `code ${exit.code}`}: ${exit.stderrTail.slice(-5).join(' | ') || 'no stderr'}`, {
          details: { code: exit.code, signal: exit.signal, stderrTail: exit.stderrTail },
        });
      }
      if (exit.shutdownReason && exit.shutdownReason !== 'guest-shutdown') {
        throw new XepaError('ERR_QEMU_EXIT', `the VM stopped without a guest power-off (${exit.shutdownReason})`);
      }
    } catch (err) {
      outcome = isXepaError(err, 'ERR_CANCELLED') || this.cancelRequested ? 'cancelled' : 'failed';
      this.error = toWireError(err);
      endMessage = outcome === 'cancelled' ? 'job cancelled' : `install failed: ${this.error.message}`;
      this.log.warn({ err }, endMessage);
    }
    await this.restore(releaseDisks).catch((err) => {
      outcome = 'failed';
      this.error ??= toWireError(err);
      endMessage = `restore failed: ${toWireError(err).message}`;
    });
    this.emit(outcome, endMessage, this.error ? { detail: { error: this.error } } : {});
  }

  private async fetch(): Promise<{ path: string }> {
    this.emit('fetching', `fetching ${this.request.iso.url}`, { progress: 0 });
    let last = 0;
    const iso = await this.rt.fetchIso(this.request.iso, {
      signal: this.abort.signal,
      reserveBytes: this.plan.memoryMiB * 1024 * 1024,
      onProgress: ({ bytes, total }) => {
        const t = this.rt.now().getTime();
        if (t - last < 1000 && bytes !== total) return; // one event a second is plenty on the wire
        last = t;
        const detail: Record<string, unknown> = { bytes, ...(total ? { total } : {}) };
        this.emit('fetching', total ? `${mib(bytes)} of ${mib(total)} MiB` : `${mib(bytes)} MiB`, total ? { progress: bytes / total, detail } : { detail });
      },
    });
    this.emit('verifying', `sha256 ${iso.sha256.slice(0, 16)}… matches (${mib(iso.size)} MiB${iso.reused ? ', cached copy re-verified' : ', verified while streaming'})`, { progress: 1 });
    return iso;
  }

  private async boot(iso: { path: string }): Promise<Awaited<RunningVmHandle['exited']>> {
    this.emit('booting', `starting QEMU (${this.plan.accel}, ${this.plan.firmware}, ${this.plan.memoryMiB} MiB, ${this.plan.cpus} vCPU)`, { detail: { accel: this.plan.accel, accelReason: this.plan.accelReason } });
    const c = this.consoles;
    const spec: VmSpecInput = {
      name: `xepa-${this.id}`,
      accel: this.plan.accel,
      memoryMiB: this.plan.memoryMiB,
      cpus: this.plan.cpus,
      firmware: await this.rt.prepareFirmware(this.plan.firmware, this.dir),
      cdrom: iso.path,
      disks: this.plan.disks.map((d) => ({ path: d.path, bus: this.plan.diskBus, ...(d.serial ? { serial: d.serial } : {}) })),
      sockets: { qmp: c.qmp, vnc: c.vnc, serial: [c.serial[0]!, c.serial[1]!] },
      serialLogs: [join(this.dir, 'serial0.log'), join(this.dir, 'serial1.log')],
      bootOrder: 'disk-first',
    };
    this.vm = await this.rt.startVm(spec);
    this.vm.onGuestEvent?.((event) => {
      if (event === 'RESET') this.emit('running', 'guest rebooted');
      if (event === 'POWERDOWN') this.emit('running', 'guest asked to power down');
    });
    this.emit('running', `installer running under ${this.plan.accel.toUpperCase()} (pid ${this.vm.pid}); VNC ${c.vnc}`, { detail: { consoles: c } });
    if (this.cancelRequested) void this.vm.stop(STOP_GRACE_MS);
    const exit = await this.vm.exited;
    this.emit('stopping', `QEMU exited (${exit.shutdownReason ?? exit.signal ?? `code ${exit.code}`})`);
    return exit;
  }

  private async restore(releaseDisks: (() => Promise<void>) | undefined): Promise<void> {
    this.emit('restoring', 'restoring devices');
    if (this.vm) await this.vm.stop(STOP_GRACE_MS).catch(() => undefined); // no-op when it already exited
    if (releaseDisks) await releaseDisks();
    const problems = await this.rt.verifyDisks(this.plan);
    if (problems.length > 0) throw new XepaError('ERR_DEVICE_NOT_FOUND', `after the VM: ${problems.join('; ')}`);
    this.emit('restoring', `devices restored; ${this.plan.disks.length} disk(s) checked back by ${this.plan.disks.every((d) => d.serial) ? 'serial' : 'path'}`);
  }
}

const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1);
