import type { Logger } from 'pino';
import type { JobStep } from '../steps/index.js';
import { findOvmf, prepareUefiVars } from './firmware.js';
import { stopOrphanVm } from './orphan-vms.js';
import { findQemuBinary } from './qemu-binary.js';
import { startVm } from './supervisor.js';
import { vmPaths, type RunningVmHandle, type VmExitInfo } from './vm-handle.js';
import type { VmFirmware, VmSpec } from './vm-spec.js';

/** What the VM steps read and hand on. */
export interface VmValues {
  iso?: { path: string };
  // QEMU settings contributed by the steps before the boot (fidelity, network ...).
  spec: Partial<VmSpec>;
  vm?: RunningVmHandle;
  exit?: VmExitInfo;
}

/** The outside world of the boot step; every default is the real thing. */
export interface BootVmDeps {
  log: Logger;
  startVm?: (spec: VmSpec) => Promise<RunningVmHandle>;
  prepareFirmware?: (mode: 'bios' | 'uefi', jobDir: string, opts: { secureBoot: boolean }) => Promise<VmFirmware>;
}

// The real VM as a job drives it: the supervisor's QEMU with its QMP connection.
export function realStartVm(log: Logger): (spec: VmSpec) => Promise<RunningVmHandle> {
  return async (spec) => {
    // A missing QEMU fails here with the package to install (ERR_QEMU_START), not as a bare spawn ENOENT.
    const vm = await startVm(spec, { log: log.child({ mod: 'vm' }), qemuBinary: await findQemuBinary() });
    return {
      pid: vm.pid,
      exited: vm.exited,
      stop: (graceMs) => vm.stop(graceMs),
      onGuestEvent: (fn) => vm.qmp.on('event', (e: { event: string; data?: unknown }) => fn(e.event, e.data)),
      // QEMU re-reads the boot order at each reset: the boot in progress keeps the CD, later ones start from disk.
      demoteCdrom: async () => void (await vm.qmp.execute('qom-set', { path: '/machine/peripheral/cdrom0', property: 'bootindex', value: 1000 })),
      qmp: vm.qmp,
    };
  };
}

// SeaBIOS needs nothing; UEFI gets OVMF with a VARS copy of its own in the job directory.
const realFirmware: NonNullable<BootVmDeps['prepareFirmware']> = async (mode, jobDir, opts) =>
  mode === 'bios' ? { mode: 'bios' } : prepareUefiVars(await findOvmf('/', { secureBoot: opts.secureBoot }), jobDir);

export const VM_STOP_GRACE_MS = 10_000;

// The step that starts QEMU with the ISO as its CD-ROM, the plan's disks and devices and what earlier steps
// added; its undo stops QEMU (a no-op once it exited), and a VM left running by a crashed agent is stopped at the
// next start (its pid file in the job directory).
export function bootVmStep(d: BootVmDeps): JobStep<VmValues> {
  const start = d.startVm ?? realStartVm(d.log);
  const firmwareFor = d.prepareFirmware ?? realFirmware;
  return {
    name: 'boot-vm',
    async run(ctx) {
      const { plan, request, dir, id } = ctx.job;
      ctx.emit('booting', `starting QEMU (${plan.accel}, ${plan.firmware}, ${plan.memoryMiB} MiB, ${plan.cpus} vCPU)`, { detail: { accel: plan.accel, accelReason: plan.accelReason } });
      const paths = vmPaths(dir);
      const spec: VmSpec = {
        ...ctx.values.spec,
        name: `xepa-${id}`,
        accel: plan.accel,
        memoryMiB: plan.memoryMiB,
        cpus: plan.cpus,
        firmware: await firmwareFor(plan.firmware, dir, { secureBoot: plan.fidelity?.firmware.secureBoot.vm === true }),
        cdrom: ctx.values.iso!.path,
        disks: plan.disks.filter((x) => x.via === 'raw').map((x) => ({ path: x.path, bus: plan.diskBus, ...(x.serial ? { serial: x.serial } : {}) })),
        sockets: { qmp: paths.qmp, vnc: paths.vnc, serial: paths.serial },
        serialLogs: paths.serialLogs,
        bootOrder: request.vm.bootOrder === 'disk-first' ? 'disk-first' : 'cdrom-first',
        onReboot: request.vm.endOn === 'reboot' ? 'shutdown' : 'reset',
        pidFile: paths.pidFile,
      };
      const vm = await start(spec);
      ctx.values.vm = vm;
      const undo = async (): Promise<void> => void (await vm.stop(VM_STOP_GRACE_MS).catch(() => undefined));
      if (request.vm.bootOrder === 'cdrom-once' && vm.demoteCdrom) {
        // The boot in progress keeps the CD-ROM (QEMU computed it at start); every later reboot starts from the disks.
        await vm.demoteCdrom().catch((err: unknown) => ctx.log.warn({ err }, 'cannot move the CD-ROM after the disks: reboots will start the installer again'));
      }
      let reboots = 0;
      vm.onGuestEvent?.((event) => {
        if (event === 'RESET') {
          reboots++;
          ctx.emit('running', 'guest rebooted: it boots on from its disk (the job ends when it powers off; --end-on reboot ends it here)', {
            detail: { guestEvent: 'RESET', reboots },
          });
        }
        if (event === 'POWERDOWN') ctx.emit('running', 'guest asked to power down');
      });
      const consoles = { vnc: paths.vnc, qmp: paths.qmp, serial: paths.serial };
      ctx.emit('running', `installer running under ${plan.accel.toUpperCase()} (pid ${vm.pid}); its screen: xepa console (VNC), xepa serial, xepa serve`, { detail: { consoles } });
      return undo;
    },
    async recover(job, log) {
      await stopOrphanVm(job.dir, { log });
    },
  };
}
