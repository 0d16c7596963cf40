// From inside a real guest (QEMU under TCG, the job's own VmSpec): an install job's emulated NIC on user
// networking reaches the internet and its answer files, never the rescue system (issue 11, class 5). The rescue
// system and the internet are network namespaces this test creates; the agent's side runs in the first.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PACKAGES, ensureDebianPackages } from '../../../build/host-deps.js';
import { ensureTestIso, TEST_ISO_PACKAGES } from '../../../build/test-iso/index.js';
import { createToolRunner, type GuestNetIsolator } from '../../../agent/fidelity/index.js';
import { GuestNetworks } from '../../../agent/vm/index.js';
import { fakeHostSysfs, runFileJob } from '../fidelity/file-job.js';
import { readProbe } from '../fidelity/probe-lines.js';
import { ensureNetprobeIso } from './netprobe-iso.js';
import { startNetLab, type NetLab } from './net-lab.js';

const run = promisify(execFile);
const log = pino({ level: 'warn' });
const USER_DATA = '#cloud-config\nhostname: xepa-guest-net\n';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
let iso: { path: string; sha256: string; size: number };
let lab: NetLab;
let work = '';

beforeAll(async () => {
  await ensureDebianPackages([...new Set([...DEMO_PACKAGES, ...TEST_ISO_PACKAGES, 'grub-efi-amd64-bin'])]);
  const base = await ensureTestIso({ kernel: 'generic', firmware: 'both', probe: true, log: (l) => console.log(`[test-iso] ${l}`) });
  const path = await ensureNetprobeIso(base, join(base.iso, '..', '..'));
  const { stdout } = await run('sha256sum', [path]);
  const { stdout: size } = await run('stat', ['-c', '%s', path]);
  iso = { path, sha256: stdout.split(' ')[0]!, size: Number(size) };
  lab = await startNetLab();
  work = await mkdtemp(join(tmpdir(), 'xepa-guest-net-'));
}, 300_000);
afterAll(async () => {
  await lab?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

// One install job of the netprobe ISO whose QEMU runs with `guestNet` deciding its network namespace.
async function runJob(name: string, guestNet: GuestNetIsolator) {
  const dir = join(work, name);
  const sysfs = await fakeHostSysfs(join(dir, 'sys'));
  const probeList = [
    `tcp loopback 10.0.2.2 ${lab.ports.loopback}`, // slirp's gateway: the host's loopback
    `tcp public ${lab.publicAddr} ${lab.ports.public}`, // the rescue system's own address, through the NAT
    `tcp outside ${lab.outsideAddr} ${lab.ports.outside}`,
    'http answer 10.0.2.100 /user-data', // the answer endpoint (slirp guestfwd to the agent)
    'http unknown 10.0.2.100 /etc/passwd', // only the request's answer files are there
  ].join('\n') + '\n';
  const before = new Map(lab.accepted);
  const { job, serialLog } = await runFileJob({
    dir, name, sysfs, log, iso, guestNet,
    server: { firmware: 'bios', mac: 'b4:96:91:00:00:05', cpu: { model: 'Intel Xeon', cores: 4, threads: 8 } },
    request: {
      vm: { accel: 'tcg', memoryMiB: 512, cpus: 1 },
      answer: { kind: 'cloud-init', files: [{ path: 'user-data', content: USER_DATA }, { path: 'xepa-netprobe', content: probeList }] },
    },
  });
  const probe = await readProbe(serialLog);
  const accepted = (n: string): number => (lab.accepted.get(n) ?? 0) - (before.get(n) ?? 0);
  return { job, probe, accepted, messages: job.events.events.map((e) => e.message) };
}

describe('the installer guest on user networking', () => {
  it('reaches the internet and its answer files, never the rescue system\'s loopback or public address; all of it is torn down after', async () => {
    expect(await lab.ipForward()).toBe('0');
    const r = await runJob('isolated', new GuestNetworks({ run: createToolRunner(), log, hostNetns: lab.rescue }));
    expect(r.job.state, r.probe.text.slice(-3000)).toBe('done');
    expect(r.probe.complete, r.probe.text.slice(-3000)).toBe(true);
    const f = r.probe.facts;
    expect(f['net.loopback']).toMatch(/^fail /);
    expect(f['net.public']).toMatch(/^fail /);
    expect([r.accepted('loopback'), r.accepted('public')]).toEqual([0, 0]);
    expect(f['net.outside']).toBe('ok OUTSIDE-MARKER');
    expect(r.accepted('outside')).toBe(1);
    expect(f['net.answer']).toBe(`ok ${sha(USER_DATA)}`);
    expect(f['net.unknown']).toMatch(/^fail rc=0 HTTP\/1\.1 404 /);
    expect(r.messages.some((m) => m.includes(`network namespace xepa-${r.job.id}: outbound only`))).toBe(true);
    // the effect's undo: no namespace, veth, table or forwarding left in the rescue system
    expect((await run('ip', ['netns', 'list'])).stdout).not.toContain(`xepa-${r.job.id}`);
    const state = await lab.rescueState();
    expect(state.tables).not.toMatch(/xepa_/);
    expect(state.links).not.toMatch(/xvh/);
    expect(await lab.ipForward()).toBe('0');
  }, 240_000);

  it('on plain slirp in the rescue system (no namespace, as before issue 11) reaches its loopback: the probe can see the leak', async () => {
    const plain: GuestNetIsolator = { isolate: async () => ({ netns: lab.rescue, release: async () => undefined }) };
    const r = await runJob('plain', plain);
    expect(r.job.state, r.probe.text.slice(-3000)).toBe('done');
    expect(r.probe.complete, r.probe.text.slice(-3000)).toBe(true);
    expect(r.probe.facts['net.loopback']).toBe('ok LOOPBACK-MARKER');
    expect(r.probe.facts['net.public']).toBe('ok PUBLIC-MARKER');
    expect([r.accepted('loopback'), r.accepted('public')]).toEqual([1, 1]);
  }, 240_000);
});
