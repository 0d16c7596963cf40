import { XepaError } from '../protocol/index.js';
import type { JobStep } from '../steps/index.js';
import { VM_STOP_GRACE_MS, type VmValues } from './boot-step.js';
import { vmOutcome } from './vm-outcome.js';

/** What the wait step hands on: how the install ended, in words, once the VM is gone. */
export interface VmEndValues extends VmValues {
  // Set by `finish` on a running job: the VM is stopped and the job still ends done.
  stopForFinish?: boolean;
  endMessage?: string;
}

// The step that runs until QEMU exits: a cancel stops the VM; the guest's own power-off (or its reboot, with
// vm.endOn "reboot") is a finished install, anything else fails with QEMU's last words (vm-outcome.ts).
export function waitVmStep(): JobStep<VmEndValues> {
  return {
    name: 'wait-vm',
    async run(ctx) {
      const vm = ctx.values.vm!;
      const stop = (): void => void vm.stop(VM_STOP_GRACE_MS).catch((err: unknown) => ctx.log.warn({ err }, 'stopping the VM failed'));
      if (ctx.signal.aborted) stop();
      ctx.signal.addEventListener('abort', stop, { once: true });
      const exit = await vm.exited.finally(() => ctx.signal.removeEventListener('abort', stop));
      ctx.values.exit = exit;
      ctx.emit('stopping', `QEMU exited (${exit.shutdownReason ?? exit.signal ?? `code ${exit.code}`})`);
      if (ctx.signal.aborted) throw new XepaError('ERR_CANCELLED', 'job cancelled');
      ctx.values.endMessage = ctx.values.stopForFinish ? 'VM stopped by finish' : vmOutcome(exit, ctx.job.request.vm.endOn);
    },
  };
}
