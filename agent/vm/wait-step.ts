import { XepaError, formatSeconds } from '../protocol/index.js';
import type { JobStep } from '../steps/index.js';
import { VM_STOP_GRACE_MS, type VmValues } from './boot-step.js';
import { vmOutcome } from './vm-outcome.js';

/** What the wait step hands on: how the install ended, in words, once the VM is gone. */
export interface VmEndValues extends VmValues {
  // Set by `finish` on a running job: the VM is stopped and the job still ends done.
  stopForFinish?: boolean;
  endMessage?: string;
}

// The step that runs until QEMU exits: a cancel stops the VM, and so does the job's deadline (vm.deadlineSeconds,
// counted from here, when the VM runs); the guest's own power-off (or its reboot, with vm.endOn "reboot") is a
// finished install, anything else fails with QEMU's last words (vm-outcome.ts).
export function waitVmStep(): JobStep<VmEndValues> {
  return {
    name: 'wait-vm',
    async run(ctx) {
      const vm = ctx.values.vm!;
      const stop = (): void => void vm.stop(VM_STOP_GRACE_MS).catch((err: unknown) => ctx.log.warn({ err }, 'stopping the VM failed'));
      if (ctx.signal.aborted) stop();
      ctx.signal.addEventListener('abort', stop, { once: true });
      const deadline = ctx.job.request.vm.deadlineSeconds;
      let expired = false;
      const timer = setTimeout(() => {
        expired = true;
        ctx.emit('running', `the installer passed its deadline of ${formatSeconds(deadline)} (--deadline): stopping the VM`);
        stop();
      }, deadline * 1000);
      const exit = await vm.exited.finally(() => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', stop);
      });
      ctx.values.exit = exit;
      ctx.emit('stopping', `QEMU exited (${exit.shutdownReason ?? exit.signal ?? `code ${exit.code}`})`);
      if (ctx.signal.aborted) throw new XepaError('ERR_CANCELLED', 'job cancelled');
      if (expired) {
        throw new XepaError('ERR_TIMEOUT', `the installer did not finish within its deadline of ${formatSeconds(deadline)}: the VM was stopped (set a longer one with --deadline)`, {
          details: { deadlineSeconds: deadline },
        });
      }
      ctx.values.endMessage = ctx.values.stopForFinish ? 'VM stopped by finish' : vmOutcome(exit, ctx.job.request.vm.endOn);
    },
  };
}
