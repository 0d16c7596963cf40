import { createInterface } from 'node:readline/promises';
import type { DiskSelector, InstallRequest, NicSelector } from '../../../agent/protocol/index.js';
import { XepaError, redactUrl } from '../../../agent/protocol/index.js';
import { AGENT_OPTIONS, mibOf, parse } from '../args.js';
import { line, type Output } from '../output.js';
import { renderPlan } from '../render.js';
import { resolveOsSpec, type ResolvedIso } from '../../vendor/index.js';
import { openSession } from '../session.js';
import { applyFidelityOptions, FIDELITY_OPTIONS, FIDELITY_USAGE } from '../fidelity-options.js';
import { consoleHint } from '../console-hint.js';
import { followJob } from './follow.js';

export const INSTALL_USAGE = `usage: xepa install HOST --iso-url URL --sha256 HEX --disk DISK [--disk DISK]...
         [--iso-size BYTES] [--memory 4G] [--cpus N] [--firmware auto|bios|uefi] [--accel auto|kvm|tcg]
         [--disk-bus virtio|sata|nvme] [--boot-order cdrom-once|disk-first|cdrom-first] [--end-on poweroff|reboot] [--deadline 4h|90m|600s] [--yes] [--detach] [--fingerprint FP] [--key-dir DIR] [--json]
         [--passthrough auto|vfio|raw] [--nic NIC]... [--force-protected REASON]
${FIDELITY_USAGE}
       xepa install HOST --os NAME@CHANNEL|VERSION [--catalog URL | --store DIR [--vendor-listen H:P] [--vendor-url URL]] ...
DISK is serial=SERIAL, wwn=WWN or a /dev path. Without --yes the plan is shown and must be confirmed.
--os takes the ISO (URL and sha256) from Vendor Services: a catalog server (--catalog or XEPA_CATALOG, as served by
xepa serve), or a local store served on loopback while this command runs (docs/vendor-services.md).
NIC is an interface name, a MAC or a PCI address; --force-protected is logged (see docs/devices.md).`;

// Parses one --disk value.
export function diskSelectorOf(text: string): DiskSelector {
  const m = /^(serial|wwn)=(.+)$/.exec(text);
  if (m) return m[1] === 'serial' ? { serial: m[2]! } : { wwn: m[2]! };
  if (text.startsWith('/dev/')) return { path: text };
  throw new XepaError('ERR_BAD_REQUEST', `--disk ${text}: use serial=SERIAL, wwn=WWN or a /dev path`);
}

// Parses one --nic value: a PCI address, a MAC, else an interface name.
export function nicSelectorOf(text: string): NicSelector {
  if (/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(text)) return { bdf: text.toLowerCase() };
  if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(text)) return { mac: text.toLowerCase() };
  return { name: text };
}

// Parses --end-on: the job ends when the guest powers off (default) or at its first reboot.
export function endOnOf(text: string): 'poweroff' | 'reboot' {
  if (text === 'poweroff' || text === 'reboot') return text;
  throw new XepaError('ERR_BAD_REQUEST', `--end-on ${text}: use poweroff or reboot`);
}

// Parses --deadline (4h, 90m, 600s or bare seconds): how long the installer may run before its VM is stopped.
export function deadlineOf(text: string): number {
  const m = /^(\d+)(s|m|min|h)?$/.exec(text.trim());
  const seconds = m ? Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' || m[2] === 'min' ? 60 : 1) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 5 || seconds > 7 * 24 * 3600) {
    throw new XepaError('ERR_BAD_REQUEST', `--deadline ${text}: give a duration from 5s to 168h (e.g. 4h, 90m, 600s)`);
  }
  return seconds;
}

// The device options shared by plan and install.
export const DEVICE_OPTIONS = {
  passthrough: { type: 'string' },
  nic: { type: 'string', multiple: true },
  'force-protected': { type: 'string' },
} as const;

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
  if (typeof v['boot-order'] === 'string') vm.bootOrder = v['boot-order'];
  if (typeof v['end-on'] === 'string') vm.endOn = endOnOf(v['end-on']);
  if (typeof v.deadline === 'string') vm.deadlineSeconds = deadlineOf(v.deadline);
  const iso: InstallRequest['iso'] = { url: need('iso-url'), sha256: need('sha256').toLowerCase() };
  if (typeof v['iso-size'] === 'string') iso.size = Number(v['iso-size']);
  const req: InstallRequest = { iso, disks, vm: vm as InstallRequest['vm'] };
  if (typeof v.passthrough === 'string') req.passthrough = v.passthrough as InstallRequest['passthrough'];
  const nics = ((v.nic as string[] | undefined) ?? []).map(nicSelectorOf);
  if (nics.length > 0) req.nics = nics;
  if (typeof v['force-protected'] === 'string') req.forceProtected = v['force-protected'];
  return req;
}

// `xepa install`: plan, confirm, install, then follow the job to its end.
export async function installCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...AGENT_OPTIONS,
    'iso-url': { type: 'string' },
    sha256: { type: 'string' },
    'iso-size': { type: 'string' },
    os: { type: 'string' },
    catalog: { type: 'string' },
    store: { type: 'string' },
    'vendor-config': { type: 'string' },
    'vendor-listen': { type: 'string' },
    'vendor-url': { type: 'string' },
    disk: { type: 'string', multiple: true },
    memory: { type: 'string' },
    cpus: { type: 'string' },
    firmware: { type: 'string' },
    accel: { type: 'string' },
    'disk-bus': { type: 'string' },
    'boot-order': { type: 'string' },
    'end-on': { type: 'string' },
    deadline: { type: 'string' },
    ...DEVICE_OPTIONS,
    ...FIDELITY_OPTIONS,
    yes: { type: 'boolean', default: false },
    detach: { type: 'boolean', default: false },
  });
  if (values.help) return line(o.out, INSTALL_USAGE), 0;
  const fromCatalog = values.os ? await isoFromCatalog(values, o) : undefined;
  let session: Awaited<ReturnType<typeof openSession>> | undefined;
  try {
    const request = await applyFidelityOptions(installRequestOf(fromCatalog ? { ...values, 'iso-url': fromCatalog.url, sha256: fromCatalog.sha256, 'iso-size': String(fromCatalog.size) } : values), values);
    session = await openSession(positionals[0], values, (s) => line(o.err, s));
    const plan = await session.client.call('plan', request);
    if (!values.json) line(o.err, renderPlan(plan));
    if (!values.yes) await confirm(o, plan.disks.map((d) => d.path));
    // The same key on a retried install returns the same job (idempotent).
    const job = await session.client.call('install', { ...request, planHash: plan.hash });
    if (values.json && values.detach) line(o.out, JSON.stringify(job));
    else line(o.err, `job ${job.id} started on ${session.agentId}\n${consoleHint({ host: positionals[0]!, job: job.id, fingerprint: values.fingerprint, keyDir: values['key-dir'] })}`);
    if (values.detach) return 0;
    return await followJob(session, job.id, 0, o, { json: values.json });
  } finally {
    session?.close();
    await fromCatalog?.close();
  }
}

// --os NAME@REF: the ISO's URL and digest through Vendor Services; a local store is served only while we run.
async function isoFromCatalog(v: Record<string, string | boolean | string[] | undefined>, o: Output): Promise<ResolvedIso> {
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  if (str('iso-url') || str('sha256')) throw new XepaError('ERR_BAD_REQUEST', '--os and --iso-url/--sha256 exclude each other');
  const catalogUrl = str('catalog') ?? (str('store') ? undefined : process.env.XEPA_CATALOG);
  if (!catalogUrl && v.detach) throw new XepaError('ERR_BAD_REQUEST', '--detach needs --catalog: a local store is only served while xepa install runs');
  const r = await resolveOsSpec(str('os')!, { catalogUrl, storeDir: str('store'), configPath: str('vendor-config'), listen: str('vendor-listen'), publicUrl: str('vendor-url') });
  line(o.err, `${r.os} ${r.version}: ${redactUrl(r.url)} (sha256 ${r.sha256.slice(0, 16)}…, ${r.size} bytes)${catalogUrl ? '' : ', served from the local store while this install runs'}`);
  return r;
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
