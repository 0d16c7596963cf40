import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type RunningServe } from '../../../controller/cli/commands/serve.js';
import { runCli } from '../../../controller/cli/main.js';
import { bootDiskUntilMarker, runQemu } from '../../../controller/qemu/index.js';
import type { LocalAgent } from '../../../controller/demo/local-agent.js';
import { createLoopDisk, loopDevicesUnder, type LoopDisk } from '../../../controller/demo/loop-disk.js';
import { startVendorMount } from '../../../controller/vendor/index.js';
import { captureOutput } from '../../support/capture.js';
import { startTestAgent } from '../../support/test-agent.js';
import { BOOT_MARKER, initramfsPrinting, sha256sums } from './fake-releases.js';
import { publishTalos } from './fake-upstream.js';
import { makeVendorEnv, testConfig, type VendorEnv } from './vendor-env.js';

// The two ways a catalog OS reaches a machine: iPXE netboot from `xepa serve` (QEMU's own iPXE ROM, slirp network
// to the loopback server), and `xepa install --os` through the agent (generic ISO; Talos as a wrapped GRUB ISO).
describe('booting catalog releases', () => {
  let env: VendorEnv;
  let serve: RunningServe;
  const served: string[] = [];
  let agent: LocalAgent;
  let disk: LoopDisk;
  let keyDir: string;

  beforeAll(async () => {
    // Validation is manual here: the releases are promoted by hand (the updater test covers automatic validation).
    env = await makeVendorEnv('xepa-vendor-boot-', (base, iso) => testConfig(base, iso, { kind: 'manual' }, { kind: 'manual' }));
    const kernel = readFileSync(env.iso.kernel);
    const initrd = initramfsPrinting(BOOT_MARKER);
    publishTalos(env.up, 'v1.0.0', kernel, initrd, sha256sums({ 'vmlinuz-amd64': kernel, 'initramfs-amd64.xz': initrd }));
    expect((await env.vendor(['update', 'talos'])).out).toMatch(/talos\s+v1\.0\.0\s+candidate/);
    expect((await env.vendor(['promote', 'talos@v1.0.0'])).code).toBe(0);
    env.up.files.set('/isos/test.iso', readFileSync(env.iso.iso));
    expect((await env.vendor(['add', 'generic@test-1', '--url', `${env.up.base}/isos/test.iso`, '--sha256', env.iso.sha256])).out).toMatch(/candidate/);
    expect((await env.vendor(['promote', 'generic@test-1'])).code).toBe(0);

    serve = await startServe({ host: '127.0.0.1', port: 0 });
    serve.add({ name: 'request-log', request: (req) => (served.push(req.url ?? ''), false) });
    serve.add(await startVendorMount({ storeDir: env.storeDir, configPath: env.configPath }));

    keyDir = join(env.work, 'ctl');
    disk = await createLoopDisk(join(env.work, 'disk.img'), 128);
    agent = await startTestAgent(env.work, keyDir); // its ISO server is on loopback
  });
  afterAll(async () => {
    await agent?.stop();
    await disk?.detach();
    await serve?.close();
    await env?.up.close();
    if (env) {
      expect(await loopDevicesUnder(env.work)).toEqual([]);
      rmSync(env.work, { recursive: true, force: true });
    }
  });

  const install = (args: string[]) => {
    const o = captureOutput();
    return runCli(['install', agent.url, ...args, '--disk', disk.device, '--memory', '512', '--firmware', 'bios', '--yes', '--fingerprint', agent.fingerprint, '--key-dir', keyDir], o)
      .then((code) => ({ code, out: o.stdout(), err: o.stderr() }));
  };

  it("netboots talos@stable with QEMU's iPXE ROM from the per-host script of xepa serve", async () => {
    const cfg = join(env.storeDir, 'configs', 'talos', 'node-1', 'machine.yaml');
    mkdirSync(dirname(cfg), { recursive: true });
    writeFileSync(cfg, 'machine: {}\n');
    const port = new URL(serve.url).port;
    // slirp: the guest reaches the host's loopback at 10.0.2.2; iPXE chains the DHCP boot file when it is a URL
    const script = `http://10.0.2.2:${port}/vendor/v1/ipxe/talos/stable?host=node-1`;
    const serial: string[] = [];
    const res = await runQemu({
      log: (l) => serial.push(l),
      args: ['-accel', 'tcg', '-machine', 'q35', '-m', '512', '-nodefaults', '-display', 'none', '-no-reboot', '-serial', 'stdio',
        '-netdev', `user,id=n0,restrict=off,bootfile=${script}`, '-device', 'virtio-net-pci,netdev=n0', '-boot', 'n'],
      marker: BOOT_MARKER,
      timeoutMs: 170_000,
    });
    expect(served).toContain('/vendor/v1/ipxe/talos/stable?host=node-1');
    expect(served).toContain('/vendor/v1/files/talos/v1.0.0/vmlinuz-amd64');
    expect(served).toContain('/vendor/v1/files/talos/v1.0.0/initramfs-amd64.xz');
    expect(serial.find((l) => l.includes('Command line:'))).toMatch(/talos\.config=http:\/\/10\.0\.2\.2:\d+\/vendor\/v1\/config\/talos\/node-1\/machine\.yaml/);
    expect(res.markerSeen).toBe(true);
  });

  it('installs generic@stable from a local store through the agent, and the installed disk boots', async () => {
    const r = await install(['--os', 'generic@stable', '--store', env.storeDir, '--vendor-config', env.configPath]);
    expect(r.err).toMatch(/generic test-1: http:\/\/127\.0\.0\.1:\d+\/vendor\/v1\/files\/generic\/test-1\/image\.iso/);
    expect(r.err).toMatch(/done +install finished/);
    expect(r.code).toBe(0);
    const boot = await bootDiskUntilMarker({ disk: disk.image, marker: env.iso.marker, timeoutMs: 150_000, accel: 'tcg' });
    expect(boot.ok).toBe(true);
  });

  it('installs talos@stable through the catalog of xepa serve: the agent VM boots the wrapped kernel+initrd ISO', async () => {
    // the agent boots disks before the CD: wipe the system the previous test installed, or it would boot that
    const fh = await open(disk.device, 'r+');
    await fh.write(Buffer.alloc(1 << 20), 0, 1 << 20, 0);
    await fh.sync();
    await fh.close();
    const r = await install(['--os', 'talos@stable', '--catalog', serve.url]);
    expect(r.err).toMatch(/talos v1\.0\.0: http:\/\/127\.0\.0\.1:\d+\/vendor\/v1\/files\/talos\/v1\.0\.0\/xepa-boot\.iso/);
    expect(r.err).toMatch(/done +install finished/);
    expect(r.code).toBe(0);
    // the job's serial log (QEMU's logfile of COM1) shows the release itself booted in the agent's VM
    const logs = (readdirSync(join(env.work, 'agent'), { recursive: true }) as string[]).filter((p) => p.endsWith('serial0.log'));
    const texts = logs.map((p) => readFileSync(join(env.work, 'agent', p), 'utf8'));
    expect(texts.some((t) => t.includes(BOOT_MARKER)), `serial logs ${logs.join(', ')}: ${texts.map((t) => t.slice(-300)).join(' || ')}`).toBe(true);
  });

  it('refuses an OS channel with no release, naming the channels there are', async () => {
    const r = await install(['--os', 'talos@candidate', '--catalog', serve.url]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('ERR_NOT_FOUND');
    expect(r.err).toContain('stable=v1.0.0');
  });
});
