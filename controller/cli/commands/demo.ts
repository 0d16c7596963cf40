import { runDemo } from '../../demo/index.js';
import { mibOf, parse } from '../args.js';
import { line, type Output } from '../output.js';
import { installCommand } from './install.js';

export const DEMO_USAGE = `usage: xepa demo [--keep] [--memory MIB] [--skip-packages]
Runs the main job on this machine: installs missing Debian packages (the demo's only; \`xepa deps --tests\` adds the
tests'), builds the test installer ISO (cached), starts an agent on loopback, installs the ISO through the controller
onto a loop device backed by a disk image, then boots that disk alone and checks the installed system comes up.
Cleans up after itself (--keep keeps files).`;

// `xepa demo`: the whole install on one machine, with a report of every step.
export async function demoCommand(argv: string[], o: Output): Promise<number> {
  const { values } = parse(argv, {
    keep: { type: 'boolean', default: false },
    memory: { type: 'string', default: '512' },
    'skip-packages': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return line(o.out, DEMO_USAGE), 0;
  const { ok, seconds } = await runDemo({
    keep: values.keep,
    memoryMiB: mibOf(values.memory),
    skipPackages: values['skip-packages'],
    say: (s) => line(o.err, s),
    install: (args) => installCommand(args, o),
  });
  line(o.out, ok ? `xepa demo: OK in ${seconds.toFixed(0)} s — installed through the agent, and the installed disk boots` : 'xepa demo: FAILED');
  return ok ? 0 : 1;
}
