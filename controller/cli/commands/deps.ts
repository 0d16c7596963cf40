import { ALL_PACKAGES, DEMO_PACKAGES, ensureDebianPackages } from '../../../build/host-deps.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';

export const DEPS_USAGE = `usage: xepa deps [--tests] [--list]
Installs the Debian packages \`xepa demo\` needs on this host (QEMU, firmware, the test ISO's tools, what the agent
spawns), only those missing. --tests adds what only the tests, the lab and the benchmarks need (sshd, debootstrap,
Chromium, websockify, a VNC client ...): \`npm test\` runs it. --list prints the packages and installs nothing.`;

// The packages `xepa deps` ensures: the demo's, or with `tests` everything.
export function depsPackages(o: { tests: boolean }): readonly string[] {
  return o.tests ? ALL_PACKAGES : DEMO_PACKAGES;
}

// `xepa deps`: apt-get install what is missing on this Debian host.
export async function depsCommand(argv: string[], o: Output): Promise<number> {
  const { values } = parse(argv, {
    tests: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return line(o.out, DEPS_USAGE), 0;
  const pkgs = depsPackages({ tests: values.tests });
  if (values.list) return line(o.out, pkgs.join('\n')), 0;
  const { installed } = await ensureDebianPackages(pkgs, { log: (l: string) => line(o.err, l) });
  line(o.err, installed.length ? `installed: ${installed.join(' ')}` : `all ${pkgs.length} packages present`);
  return 0;
}
