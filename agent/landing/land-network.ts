import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { FileChange, FinishStep, NetworkMode, RescueNetwork } from '../protocol/index.js';
import { toWireError } from '../protocol/index.js';
import type { ToolRunner } from '../fidelity/index.js';
import { ROOT_FS } from './fs-probe.js';
import { listDiskParts, rootCandidates, type DiskPart, type PartsDeps } from './installed-root.js';
import { detectNetworkStack, type StackDetection } from './network-stack.js';
import { describeRescueNetwork } from './rescue-network.js';
import { ensureKernelFs, withMounted, type MountDeps } from './root-mount.js';
import { RootTree } from './root-tree.js';
import { networkFilesFor, type NetworkFiles, type WriterInput } from './writers/index.js';

// Where a Linux root may sit inside a btrfs filesystem's top level (Debian: @rootfs, Ubuntu and others: @).
const BTRFS_ROOT_SUBVOLS = ['', '@rootfs', '@', 'root', '@root'];

// The outside world of the landing: tools, the kernel's filesystems, a private work directory.
export interface LandingDeps extends Omit<PartsDeps, 'run'>, MountDeps {
  run: ToolRunner;
  // an empty directory of the agent's own (0700) to mount the installed root on
  mountDir: string;
}

// What the landing found and did, as the finish report's `root` and `network` steps.
export interface LandingOutcome {
  root: Omit<FinishStep, 'step'>;
  network: Omit<FinishStep, 'step'>;
}

// An installed Linux root found on the job's disks.
interface FoundRoot {
  part: DiskPart;
  sub: string;
  detection: StackDetection;
  input: Omit<WriterInput, 'mode' | 'net' | 'job'>;
}

/**
 * The installed system's side of the move to metal: finds its root among the job's disks, opens it read-only,
 * detects the network stack it enables, and — unless `mode` is keep — mounts it writable only to write the
 * configuration that brings the server's NIC up by MAC. Every file written is in the outcome with digests.
 */
export async function landNetwork(o: { job: string; disks: string[]; mode: NetworkMode; rescue?: RescueNetwork; rescueProblem?: string }, deps: LandingDeps): Promise<LandingOutcome> {
  const wantsWrite = o.mode !== 'keep';
  const hint = ' (--network keep moves the system without touching its network)';
  let found: FoundRoot[];
  let problems: string[];
  let seen: string;
  try {
    ({ found, problems, seen } = await findRoots(o.disks, deps));
  } catch (err) {
    const w = toWireError(err);
    return { root: { status: wantsWrite ? 'fail' : 'warn', message: `${w.message}${wantsWrite ? hint : ''}`, detail: { code: w.code } }, network: { status: 'skipped', message: 'no installed root was opened' } };
  }
  if (found.length !== 1) {
    const message = found.length === 0
      ? `no installed Linux root on ${o.disks.join(', ')}${problems.length ? `: ${problems.join('; ')}` : ' (no ext4, xfs or btrfs filesystem with an os-release)'}; found ${seen || 'no partitions'}`
      : `several installed Linux roots: ${found.map((f) => `${f.part.name}${f.sub ? `/${f.sub}` : ''} (${f.detection.os?.prettyName ?? '?'})`).join(', ')}: finish cannot tell which one the server boots`;
    const status = wantsWrite ? 'fail' : 'warn';
    return { root: { status, message: `${message}${wantsWrite ? hint : ''}`, detail: { problems } }, network: { status: 'skipped', message: wantsWrite ? `not configured: ${message}` : 'left as installed (--network keep)' } };
  }
  const root = found[0]!;
  const d = root.detection;
  const where = `${ROOT_FS[root.part.fs]} (${root.part.fs}) on ${root.part.name}${root.sub ? ` subvolume ${root.sub}` : ''}`;
  const rootStep: LandingOutcome['root'] = {
    status: problems.length ? 'warn' : 'ok',
    message: `${d.os?.prettyName ?? 'an unnamed Linux system'} on ${where}, init ${d.init}${problems.length ? `; also: ${problems.join('; ')}` : ''}`,
    detail: { partition: root.part.name, fs: root.part.fs, subvolume: root.sub, os: d.os, init: d.init },
  };
  const detail: Record<string, unknown> = { mode: o.mode, stack: d.chosen, enabled: d.enabled, why: d.why, existing: d.existing, ...(o.rescue ? { rescue: o.rescue } : {}) };
  if (o.mode === 'keep') {
    return { root: rootStep, network: { status: 'skipped', message: `left as installed (--network keep): ${d.why}`, detail } };
  }
  if (!d.chosen) return { root: rootStep, network: { status: 'fail', message: `${d.why}: finish cannot bring the server's NIC up${hint}`, detail } };
  if (!o.rescue) return { root: rootStep, network: { status: 'fail', message: `the rescue system's network could not be read: ${o.rescueProblem ?? 'unknown reason'}${hint}`, detail } };
  if (o.rescue.kind) {
    return { root: rootStep, network: { status: 'fail', message: `the rescue system reaches the network through ${o.rescue.iface}, a ${o.rescue.kind}: finish writes plain-NIC configurations only${hint}`, detail } };
  }
  if (d.chosen === 'ifupdown' && d.init !== 'systemd' && d.init !== 'sysvinit') {
    return { root: rootStep, network: { status: 'fail', message: `ifupdown under ${d.init}: without udev .link files finish cannot name the NIC by its MAC${hint}`, detail } };
  }
  const files: NetworkFiles = networkFilesFor(d.chosen, { mode: o.mode, net: o.rescue, job: o.job, ...root.input });
  let changes: FileChange[];
  try {
    changes = await withMounted(root.part, deps.mountDir, 'rw', deps, async () => {
      const t = new RootTree(join(deps.mountDir, root.sub));
      const out: FileChange[] = [];
      for (const f of files.files) out.push(await t.writeFile(f.path, f.content, f.mode, f.why));
      return out;
    });
  } catch (err) {
    const w = toWireError(err);
    return { root: rootStep, network: { status: 'fail', message: `writing the ${d.chosen} configuration failed: ${w.message}`, detail: { ...detail, code: w.code } } };
  }
  const what = o.mode === 'rescue' ? describeRescueNetwork(o.rescue) : `DHCP on ${o.rescue.mac}`;
  const wrote = changes.map((c) => `${c.path} ${c.action} (sha256 ${c.sha256.slice(0, 12)})`).join(', ');
  return {
    root: rootStep,
    network: { status: 'ok', message: `${d.chosen} (${d.why}): ${what}; ${wrote}`, detail: { ...detail, changes, notes: [...files.notes, ...o.rescue.notes] } },
  };
}

// Every Linux root on the disks (each candidate mounted read-only in turn), and what finish cannot open.
async function findRoots(disks: string[], deps: LandingDeps): Promise<{ found: FoundRoot[]; problems: string[]; seen: string }> {
  const parts = await listDiskParts(disks, deps);
  const { candidates, problems } = rootCandidates(parts);
  const seen = parts.map((p) => `${p.name} ${p.fs}`).join(', ');
  const found: FoundRoot[] = [];
  await fs.mkdir(deps.mountDir, { recursive: true, mode: 0o700 });
  for (const part of candidates) {
    try {
      await ensureKernelFs(ROOT_FS[part.fs]!, deps);
      await withMounted(part, deps.mountDir, 'ro', deps, async () => {
        for (const sub of part.fs === 'btrfs' ? BTRFS_ROOT_SUBVOLS : ['']) {
          const t = new RootTree(join(deps.mountDir, sub));
          if (!(await t.exists('etc/os-release')) && !(await t.exists('usr/lib/os-release'))) continue;
          const detection = await detectNetworkStack(t);
          found.push({ part, sub, detection, input: await writerFacts(t, detection) });
          return;
        }
      });
    } catch (err) {
      problems.push(`${part.name} (${part.fs}): ${toWireError(err).message}`);
    }
  }
  return { found, problems, seen };
}

// What the writers need to know of the installed system besides its stack.
async function writerFacts(t: RootTree, d: StackDetection): Promise<Omit<WriterInput, 'mode' | 'net' | 'job'>> {
  const k = await t.kind('etc/resolv.conf');
  const interfaces = await t.readText('etc/network/interfaces');
  return {
    resolved: d.resolved,
    resolvconf: d.resolvconf,
    resolvConf: k === undefined ? 'missing' : k.type === 'link' ? 'link' : 'file',
    ...(d.netplanRenderer ? { netplanRenderer: d.netplanRenderer } : {}),
    ...(interfaces !== undefined ? { interfaces } : {}),
  };
}
