// The per-boot part of the lab's initramfs: the agent bundle, its configuration (trusting the controller's key)
// and the lab's knobs, as a small cpio appended to the cached rescue image. The cached image never holds the
// agent, so a changed bundle needs no rebuild.
import { promises as fsp } from 'node:fs';
import { writeCpioNewc, parentDirs, type CpioEntry } from './cpio-newc.js';

// What goes into the overlay.
export interface BootOverlay {
  agentBundle: string; // dist/xepa-agent.mjs
  agentConfig: Record<string, unknown>; // written to /etc/xepa/agent.json (see agent/config.ts)
  // Shell variables for the lab init (/etc/xepa/lab.env), e.g. XEPA_AGENT_ARGS.
  env?: Record<string, string>;
}

// The overlay's members: /opt/xepa/xepa-agent.mjs, /etc/xepa/agent.json, /etc/xepa/lab.env.
export async function overlayEntries(o: BootOverlay): Promise<CpioEntry[]> {
  const files: CpioEntry[] = [
    { kind: 'file', path: 'opt/xepa/xepa-agent.mjs', data: await fsp.readFile(o.agentBundle) },
    { kind: 'file', path: 'etc/xepa/agent.json', data: JSON.stringify(o.agentConfig, null, 2) + '\n', mode: 0o600 },
    { kind: 'file', path: 'etc/xepa/lab.env', data: envFile(o.env ?? {}) },
  ];
  const dirs: CpioEntry[] = parentDirs(files.map((f) => f.path)).map((path) => ({ kind: 'dir', path }));
  return [...dirs, ...files];
}

// Writes `out` = the rescue initrd followed by the overlay cpio (the kernel unpacks both, later members win).
export async function writeBootInitrd(rescueInitrd: string, overlay: BootOverlay, out: string): Promise<void> {
  const size = (await fsp.stat(rescueInitrd)).size;
  // The kernel finds an appended cpio header only at a 4-byte boundary; the builder pads, this checks.
  if (size % 4 !== 0) throw new Error(`${rescueInitrd} is ${size} bytes, not a multiple of 4: rebuild the rescue image`);
  await fsp.copyFile(rescueInitrd, out);
  await fsp.appendFile(out, writeCpioNewc(await overlayEntries(overlay)));
}

// KEY='value' lines for sh; single quotes inside values are closed, escaped and reopened.
export function envFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`lab.env: bad variable name ${k}`);
      return `${k}='${v.replace(/'/g, `'\\''`)}'\n`;
    })
    .join('');
}
