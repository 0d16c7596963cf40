import { toWireError } from '../protocol/index.js';
import type { JobStep } from '../steps/index.js';
import type { RunningVmHandle } from '../vm/index.js';
import { runKeyScript } from './keystrokes.js';

// The step that types the request's boot-menu keystrokes through the running VM's QMP, in the background (the
// install goes on meanwhile), and reports how it went while the installer runs.
export function typeBootKeysStep(sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): JobStep<{ vm?: RunningVmHandle }> {
  return {
    name: 'type-boot-keys',
    async run(ctx) {
      const keys = ctx.job.request.keys;
      if (!keys?.length) return;
      const report = (m: string): void => void (ctx.state() === 'running' && ctx.emit('running', m));
      const qmp = ctx.values.vm?.qmp;
      if (!qmp) return report('boot-menu keystrokes skipped: this runtime has no QMP connection');
      void runKeyScript(keys, { qmp: (command, args) => qmp.execute(command, args), sleep, signal: ctx.signal }).then(
        (n) => report(`boot-menu keystrokes typed (${n} key press(es))`),
        (err: unknown) => report(`boot-menu keystrokes stopped: ${toWireError(err).message}`),
      );
    },
  };
}
