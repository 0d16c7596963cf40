import { join } from 'node:path';
import type { Logger } from 'pino';
import type { InstallRequestParsed, JobState, JobSummary, Plan } from '../protocol/index.js';
import { XepaError, isXepaError, toWireError } from '../protocol/index.js';
import type { JobLog } from './job-log.js';
import { backupStep, hostDevicesOf, typeBootKeys } from './job-fidelity.js';
import { vmOutcome } from './vm-outcome.js';
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
  private finishRequested = false; // `finish` stopped the VM: the job still ends done
  private releaseFidelity: (() => Promise<void>) | undefined;
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

  // QEMU's log of each serial port (kept even with nobody attached): the consoles' scrollback source.
  get serialLogs(): string[] {
    return [join(this.dir, 'serial0.log'), join(this.dir, 'serial1.log')];
  }

  // The running VM's console handle (its QMP connection) while QEMU runs; undefined before boot and after exit.
  vmConsole(): { pid: number; qmp: NonNullable<RunningVmHandle['qmp']> } | undefined {
    const qmp = this.vm?.qmp;
    if (!this.vm || !qmp || qmp.closed) return undefined;
    return { pid: this.vm.pid, qmp };
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

  // `finish` on a job whose VM still runs: stop it; the job restores its devices and ends done.
  stopForFinish(): void {
    if (this.finishRequested || this.cancelRequested || ['done', 'failed', 'cancelled', 'restoring'].includes(this.state)) return;
    this.finishRequested = true;
    this.emit(this.state, 'finish requested: stopping the VM');
    if (this.vm) void this.vm.stop(STOP_GRACE_MS).catch((err) => this.log.warn({ err }, 'stopping the VM failed'));
    else this.abort.abort();
  }

  // The message of the error that ended the job, if one did.
  errorMessage(): string | undefined {
    return this.error?.message;
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
    let releaseVfio: (() => Promise<void>) | undefined;
    let outcome: 'done' | 'failed' | 'cancelled' = 'done';
    let endMessage = 'install finished: the guest powered off';
    try {
      const iso = await this.fetch();
      this.checkCancelled();
      const saved = await backupStep(this.rt, this.dir, this.plan); // before binding: vfio hides the disks
      if (saved) this.emit('binding', saved.message, { detail: saved.detail });
      releaseVfio = await this.bindDevices();
      const rawPaths = this.plan.disks.filter((d) => d.via === 'raw').map((d) => d.path);
      if (rawPaths.length > 0) {
        this.emit('binding', `claiming ${rawPaths.length} disk(s) exclusively (raw block devices)`);
        const claim = await this.rt.claimDisks(this.id, rawPaths);
        releaseDisks = claim.release;
      }
      this.checkCancelled();
      const exit = await this.boot(iso);
      if (this.cancelRequested) throw new XepaError('ERR_CANCELLED', 'job cancelled');
      endMessage = this.finishRequested ? 'VM stopped by finish' : vmOutcome(exit, this.request.vm.endOn);
    } catch (err) {
      outcome = isXepaError(err, 'ERR_CANCELLED') || this.cancelRequested ? 'cancelled' : 'failed';
      this.error = toWireError(err);
      endMessage = outcome === 'cancelled' ? 'job cancelled' : `install failed: ${this.error.message}`;
      this.log.warn({ err }, endMessage);
    }
    await this.restore(releaseDisks, releaseVfio).catch((err) => {
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
    const fidelity = await this.rt.prepareFidelity?.({ id: this.id, dir: this.dir, plan: this.plan, request: this.request });
    this.releaseFidelity = fidelity?.release;
    for (const note of fidelity?.notes ?? []) this.emit('booting', note);
    const spec: VmSpecInput = {
      ...fidelity?.spec, // SMBIOS, TPM, NIC, answer medium, CPU model (docs/fidelity.md)
      name: `xepa-${this.id}`,
      accel: this.plan.accel,
      memoryMiB: this.plan.memoryMiB,
      cpus: this.plan.cpus,
      firmware: await this.rt.prepareFirmware(this.plan.firmware, this.dir, { secureBoot: this.plan.fidelity?.firmware.secureBoot.vm === true }),
      cdrom: iso.path,
      disks: this.plan.disks.filter((d) => d.via === 'raw').map((d) => ({ path: d.path, bus: this.plan.diskBus, ...(d.serial ? { serial: d.serial } : {}) })),
      ...hostDevicesOf(this.plan), // at guest addresses mirroring the host's when the plan has fidelity
      sockets: { qmp: c.qmp, vnc: c.vnc, serial: [c.serial[0]!, c.serial[1]!] },
      serialLogs: [this.serialLogs[0]!, this.serialLogs[1]!],
      bootOrder: this.request.vm.bootOrder === 'disk-first' ? 'disk-first' : 'cdrom-first',
      onReboot: this.request.vm.endOn === 'reboot' ? 'shutdown' : 'reset',
      pidFile: join(this.dir, 'qemu.pid'), // an agent restarted after a crash stops the VM it left (orphan-vms.ts)
    };
    this.vm = await this.rt.startVm(spec);
    if (this.request.vm.bootOrder === 'cdrom-once' && this.vm.demoteCdrom) {
      // The boot in progress keeps the CD-ROM (QEMU computed it at start); every later reboot starts from the disks.
      await this.vm.demoteCdrom().catch((err) => this.log.warn({ err }, 'cannot move the CD-ROM after the disks: reboots will start the installer again'));
    }
    let reboots = 0;
    this.vm.onGuestEvent?.((event) => {
      if (event === 'RESET') {
        reboots++;
        this.emit('running', 'guest rebooted: it boots on from its disk (the job ends when it powers off; vm.endOn "reboot" ends it here)', {
          detail: { guestEvent: 'RESET', reboots },
        });
      }
      if (event === 'POWERDOWN') this.emit('running', 'guest asked to power down');
    });
    this.emit('running', `installer running under ${this.plan.accel.toUpperCase()} (pid ${this.vm.pid}); VNC ${c.vnc}`, { detail: { consoles: c } });
    typeBootKeys(this.request.keys, this.vm, this.abort.signal, (m) => this.state === 'running' && this.emit('running', m));
    if (this.cancelRequested) void this.vm.stop(STOP_GRACE_MS);
    const exit = await this.vm.exited;
    this.emit('stopping', `QEMU exited (${exit.shutdownReason ?? exit.signal ?? `code ${exit.code}`})`);
    return exit;
  }

  // Binds the plan's PCI functions (whole groups) to vfio-pci; gives back how to restore them.
  private async bindDevices(): Promise<(() => Promise<void>) | undefined> {
    const bind = this.plan.passthrough?.bind ?? [];
    if (bind.length === 0) return undefined;
    if (!this.rt.bindVfio) throw new XepaError('ERR_VFIO_BIND', 'this agent runtime cannot bind devices to vfio-pci');
    for (const f of this.plan.passthrough?.forced ?? []) this.log.warn({ bdf: f.bdf, reasons: f.reasons, why: f.why }, 'FORCED: binding a protected device');
    const list = bind.map((b) => `${b.bdf} (group ${b.group})`).join(', ');
    this.emit('binding', `binding ${bind.length} PCI function(s) to vfio-pci: ${list}`, { detail: { bind } });
    const hold = await this.rt.bindVfio(this.id, bind);
    this.emit('binding', `bound to vfio-pci: ${list}`);
    return hold.release;
  }

  private async restore(releaseDisks: (() => Promise<void>) | undefined, releaseVfio?: () => Promise<void>): Promise<void> {
    this.emit('restoring', 'restoring devices');
    if (this.vm) await this.vm.stop(STOP_GRACE_MS).catch(() => undefined); // no-op when it already exited
    await this.releaseFidelity?.().catch((err: unknown) => this.log.warn({ err }, 'stopping swtpm failed'));
    // Both releases run whatever the other does: a failed vfio restore must not keep the raw disks claimed.
    let failure: unknown;
    if (releaseVfio) {
      await releaseVfio().then(
        () => this.emit('restoring', 'PCI functions back on their original drivers'),
        (err: unknown) => (failure = err),
      );
    }
    if (releaseDisks) await releaseDisks().catch((err: unknown) => (failure ??= err));
    if (failure !== undefined) throw failure;
    const problems = await this.rt.verifyDisks(this.plan);
    if (problems.length > 0) throw new XepaError('ERR_DEVICE_NOT_FOUND', `after the VM: ${problems.join('; ')}`);
    this.emit('restoring', `devices restored; ${this.plan.disks.length} disk(s) checked back by ${this.plan.disks.every((d) => d.serial) ? 'serial' : 'path'}`);
  }
}

const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1);
