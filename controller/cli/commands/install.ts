import { createInterface } from 'node:readline/promises';
import type { DiskSelector, InstallRequest } from '../../../agent/protocol/index.js';
import { XepaError } from '../../../agent/protocol/index.js';
import { AGENT_OPTIONS, mibOf, parse } from '../args.js';
import { line, type Output } from '../output.js';
import { renderPlan } from '../render.js';
import { openSession } from '../session.js';
import { followJob } from './follow.js';

export const INSTALL_USAGE = `usage: xepa install HOST --iso-url URL --sha256 HEX --disk DISK [--disk DISK]...
         [--iso-size BYTES] [--memory 4G] [--cpus N] [--firmware auto|bios|uefi] [--accel auto|kvm|tcg]
         [--disk-bus virtio|sata|nvme] [--yes] [--detach] [--fingerprint FP] [--key-dir DIR] [--json]
DISK is serial=SERIAL, wwn=WWN or a /dev path. Without --yes the plan is shown and must be confirmed.`;

// Parses one --disk value.
export function diskSelectorOf(text: string): DiskSelector {
  const m = /^(serial|wwn)=(.+)$/.exec(text);
  if (m) return m[1] === 'serial' ? { serial: m[2]! } : { wwn: m[2]! };
  if (text.startsWith('/dev/')) return { path: text };
  throw new XepaError('ERR_BAD_REQUEST', `--disk ${text}: use serial=SERIAL, wwn=WWN or a /dev path`);
}

// Builds the install request from the command line.
export function installRequestOf(v: Record<string, string | boolean | string[] | undefined>): InstallRequest {
  const need = (k: string): string => {
    const x = v[k];
    if (typeof x !== 'string' || !x) throw new XepaError('ERR_BAD_REQUEST', `--${k} is required\n${INSTALL_USAGE}`);
    return x;
  };
  const disks = ((v.disk as string[] | undefined) ?? []).map(diskSelectorOf);
  if (disks.length === 0) throw new XepaError('ERR_BAD_REQUEST', `name at least one --disk to install onto\n${INSTALL_USAGE}`);
  const vm: Record<string, unknown> = {};
  if (typeof v.memory === 'string') vm.memoryMiB = mibOf(v.memory);
  if (typeof v.cpus === 'string') vm.cpus = Number(v.cpus);
  if (typeof v.firmware === 'string') vm.firmware = v.firmware;
  if (typeof v.accel === 'string') vm.accel = v.accel;
  if (typeof v['disk-bus'] === 'string') vm.diskBus = v['disk-bus'];
  const iso: InstallRequest['iso'] = { url: need('iso-url'), sha256: need('sha256').toLowerCase() };
  if (typeof v['iso-size'] === 'string') iso.size = Number(v['iso-size']);
  return { iso, disks, vm: vm as InstallRequest['vm'] };
}

// `xepa install`: plan, confirm, install, then follow the job to its end.
export async function installCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...AGENT_OPTIONS,
    'iso-url': { type: 'string' },
    sha256: { type: 'string' },
    'iso-size': { type: 'string' },
    disk: { type: 'string', multiple: true },
    memory: { type: 'string' },
    cpus: { type: 'string' },
    firmware: { type: 'string' },
    accel: { type: 'string' },
    'disk-bus': { type: 'string' },
    yes: { type: 'boolean', default: false },
    detach: { type: 'boolean', default: false },
  });
  if (values.help) return line(o.out, INSTALL_USAGE), 0;
  const request = installRequestOf(values);
  const session = await openSession(positionals[0], values, (s) => line(o.err, s));
  try {
    const plan = await session.client.call('plan', request);
    if (!values.json) line(o.err, renderPlan(plan));
    if (!values.yes) await confirm(o, plan.disks.map((d) => d.path));
    // The same key on a retried install returns the same job (idempotent).
    const job = await session.client.call('install', { ...request, planHash: plan.hash });
    if (values.json && values.detach) line(o.out, JSON.stringify(job));
    else line(o.err, `job ${job.id} started on ${session.agentId}; VNC socket on the agent: ${job.consoles?.vnc ?? '-'}`);
    if (values.detach) return 0;
    return await followJob(session, job.id, 0, o, { json: values.json });
  } finally {
    session.close();
  }
}

async function confirm(o: Output, paths: string[]): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new XepaError('ERR_BAD_REQUEST', 'the installer may overwrite these disks: pass --yes to confirm when not on a terminal');
  }
  const rl = createInterface({ input: process.stdin, output: o.err as NodeJS.WritableStream });
  const answer = await rl.question(`The installer may erase ${paths.join(', ')}. Type "yes" to go on: `);
  rl.close();
  if (answer.trim() !== 'yes') throw new XepaError('ERR_CANCELLED', 'not confirmed: nothing was done');
}
