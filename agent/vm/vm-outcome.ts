import { XepaError } from '../protocol/index.js';
import type { VmExitInfo } from './vm-handle.js';

// How an install ends (install `vm.endOn`): by the guest powering off, or by its first reboot.
export type EndOn = 'poweroff' | 'reboot';

// Reads the VM's end as the job's outcome: the guest's own power-off — or its reboot when the job ends on
// reboot (QEMU ran with `-action reboot=shutdown`) — is a finished install and gives the end message; anything
// else (killed, crashed, quit by someone) throws ERR_QEMU_EXIT with QEMU's last output lines.
export function vmOutcome(exit: VmExitInfo, endOn: EndOn = 'poweroff'): string {
  if (exit.shutdownReason === 'guest-shutdown') return 'install finished: the guest powered off';
  if (exit.shutdownReason === 'guest-reset' && endOn === 'reboot') return 'install finished: the guest rebooted (vm.endOn reboot)';
  if (exit.shutdownReason === undefined && exit.code === 0) return 'install finished: QEMU ended normally';
  const how = exit.shutdownReason !== undefined ? `without a guest power-off (${exit.shutdownReason})` : `with ${exit.signal ?? `code ${exit.code}`}`;
  const tail = exit.stderrTail.slice(-5).join(' | ') || 'no output from QEMU';
  throw new XepaError('ERR_QEMU_EXIT', `QEMU ended ${how}: ${tail}`, {
    details: { code: exit.code, signal: exit.signal, ...(exit.shutdownReason !== undefined ? { shutdownReason: exit.shutdownReason } : {}), stderrTail: exit.stderrTail },
  });
}
