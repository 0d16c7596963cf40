import { DEMO_PACKAGES, ensureDebianPackages } from '../../../build/host-deps.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';

export const DEPS_USAGE = `usage: xepa deps
Installs the Debian packages XEPA's demo and tests need (QEMU, firmware, ISO tools), only those missing.`;

// `xepa deps`: apt-get install what is missing on this Debian host.
export async function depsCommand(argv: string[], o: Output): Promise<number> {
  const { values } = parse(argv, { help: { type: 'boolean', short: 'h', default: false } });
  if (values.help) return line(o.out, DEPS_USAGE), 0;
  const { installed } = await ensureDebianPackages([...DEMO_PACKAGES], { log: (l: string) => line(o.err, l) });
  line(o.err, installed.length ? `installed: ${installed.join(' ')}` : `all ${DEMO_PACKAGES.length} packages present`);
  return 0;
}
