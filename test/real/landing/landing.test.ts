// Issue 14 item 3, the landing proven the way a provider's network treats it: for each network stack a Debian
// system (debootstrap, configured as its installer leaves it for the installer VM's NIC enp0s2) boots on a
// "metal" VM that differs the way a server does (another NIC model at another PCI address, so another name; the
// server's MAC) on a provider namespace with a static /32, an on-link gateway and no DHCP. The same boot
// without finish does not answer; after the agent's finish (the real finishJob with the real tools, the
// rescue network read by `ip` from a namespace that plays the rescue system) SSH answers on 203.0.113.10.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../../../build/host-deps.js';
import { createToolRunner } from '../../../agent/fidelity/index.js';
import { finishJob, type FinishableJob } from '../../../agent/finish/index.js';
import { readRescueNetwork } from '../../../agent/landing/index.js';
import type { FileChange, FinishReport, NetworkStack, Plan } from '../../../agent/protocol/index.js';
import { probeAccel } from '../../../agent/vm/index.js';
import { rescueNamespace, type RescueNamespace } from '../../support/landing-disk.js';
import { waitFor } from '../../support/wait-for.js';
import { SERVER_MAC, ensureLandingImage, type LandingImage } from './debian-image.js';
import { PROVIDER, bootMetal, bootReport, providerNetwork, sshFromProvider } from './metal-vm.js';

const run = promisify(execFile);
const ALL_STACKS: NetworkStack[] = ['ifupdown', 'systemd-networkd', 'netplan', 'network-manager'];
// XEPA_LANDING_STACKS=ifupdown,netplan narrows a run while working on one stack (the default is all four).
const STACKS = process.env.XEPA_LANDING_STACKS ? ALL_STACKS.filter((s) => process.env.XEPA_LANDING_STACKS!.split(',').includes(s)) : ALL_STACKS;
// How long a booted system with sshd up gets to answer before the test calls it silent (no answer is the claim).
const SILENT_WINDOW_MS = 45_000;

let work = '';
let accel: 'kvm' | 'tcg' = 'tcg';
let rescue: RescueNamespace;
let provider: { dispose(): Promise<void> };
const images = new Map<NetworkStack, LandingImage>();
const log = (l: string): void => void process.stderr.write(`[landing] ${l}\n`);

beforeAll(async () => {
  await ensureDebianPackages(['debootstrap', 'qemu-system-x86', 'openssh-client', 'e2fsprogs', 'mtools', 'fdisk', 'iproute2']);
  work = await mkdtemp(join(tmpdir(), 'xepa-landing-real-'));
  for (const s of STACKS) images.set(s, await ensureLandingImage(s, log));
  const a = await probeAccel({ log: pino({ level: 'silent' }), probeKernel: images.get(STACKS[0]!)!.kernel });
  accel = a.accel;
  log(`accelerator: ${a.accel} (${a.reason})`);
  provider = await providerNetwork();
  rescue = await rescueNamespace({ name: 'real-landing-rescue', mac: SERVER_MAC, address: PROVIDER.server, prefix: 32, gateway: PROVIDER.gateway, ipv6: `${PROVIDER.server6}/64` });
});
afterAll(async () => {
  await rescue?.dispose();
  await provider?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

// A private copy of the cached disk (finish and the boot write to it).
const copyDisk = async (img: LandingImage, name: string): Promise<string> => {
  const path = join(work, `${img.stack}-${name}.img`);
  await run('cp', ['--sparse=always', img.disk.image, path]);
  return path;
};

// The agent's finish on the disk: UEFI server with --boot-entry none (these boots are direct kernel boots).
const finish = async (img: LandingImage, disk: string): Promise<FinishReport> => {
  const dir = await mkdtemp(join(work, 'job-'));
  const plan = { disks: [{ path: disk, sizeBytes: 0 }], firmware: 'uefi' } as unknown as Plan;
  const job: FinishableJob = { id: `landing-${img.stack}`, dir, plan, state: 'done', done: Promise.resolve(), stopForFinish: () => undefined };
  const tools = rescue.runner(createToolRunner());
  return finishJob(job, { job: job.id, bootEntry: 'none' }, {
    run: tools,
    hostFirmware: async () => 'uefi',
    findDisks: async () => ({ paths: [disk], problems: [] }),
    reboot: () => undefined,
    rescueNetwork: () => readRescueNetwork({ run: tools, readFile: async (p) => (p === '/etc/resolv.conf' ? 'nameserver 192.0.2.53\n' : undefined) }),
    landing: { procFilesystems: () => readFile('/proc/filesystems', 'utf8') },
  });
};

describe.each(STACKS)('the landing of a %s system', (stack) => {
  const bootMs = (): number => (accel === 'kvm' ? 120_000 : 600_000); // accel is known once beforeAll ran

  it('does not answer on the server\'s address when booted on the metal as installed', async () => {
    const img = images.get(stack)!;
    const vm = bootMetal({ image: img, disk: await copyDisk(img, 'asis'), accel });
    try {
      await vm.waitForLine(/XEPA-LANDING-END/, bootMs());
      const report = bootReport(vm.console())!;
      log(`${stack} without finish:\n${report}`);
      expect(report).toMatch(/enp1s0|enp0s2/); // the NIC is there (named by the metal's address, or the VM's by a MAC match)
      expect(report).not.toContain(PROVIDER.server);
      const started = Date.now();
      const answered = await waitFor(() => sshFromProvider(img, 'true').then((r) => r !== undefined), { timeoutMs: SILENT_WINDOW_MS, intervalMs: 3000, what: 'SSH' }).catch(() => false);
      expect(answered, `SSH answered ${Math.round((Date.now() - started) / 1000)} s after the boot report`).toBe(false);
    } finally {
      await vm.stop();
    }
  });

  it('answers SSH on 203.0.113.10 after finish wrote its network by MAC', async () => {
    const img = images.get(stack)!;
    const disk = await copyDisk(img, 'finished');
    const r = await finish(img, disk);
    const steps = Object.fromEntries(r.steps.map((s) => [s.step, s.status]));
    expect(steps, JSON.stringify(r.steps, null, 1)).toMatchObject({ root: 'ok', network: 'ok' });
    const net = r.steps.find((s) => s.step === 'network')!;
    expect(net.detail!.stack).toBe(stack);
    log(`${stack} finish: ${net.message}\n${(net.detail!.changes as FileChange[]).map((c) => `  ${c.action} ${c.path} ${c.sha256}`).join('\n')}`);
    const vm = bootMetal({ image: img, disk, accel });
    try {
      await vm.waitForLine(/XEPA-LANDING-END/, bootMs());
      const out = await waitFor(() => sshFromProvider(img, 'cat /etc/hostname; ip -br addr; ip route; ip -6 route'), { timeoutMs: 90_000, intervalMs: 2000, what: `SSH on ${PROVIDER.server}` });
      log(`${stack} after finish, over SSH:\n${out}`);
      expect(out).toContain(`landing-${stack}`);
      expect(out).toMatch(new RegExp(`\\s${PROVIDER.server.replaceAll('.', '\\.')}/32`));
      expect(out).toMatch(new RegExp(`default via ${PROVIDER.gateway.replaceAll('.', '\\.')}`));
      expect(out).toContain(PROVIDER.server6);
      expect(await sshFromProvider(img, 'true', PROVIDER.server6)).toBe('');
    } finally {
      await vm.stop();
    }
  });
});
