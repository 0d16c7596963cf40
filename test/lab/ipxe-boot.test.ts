// Issue 6 in the lab: the "server" network-boots through QEMU's iPXE (SeaBIOS → the NIC's iPXE ROM → DHCP boot
// file) into the controller's rescue iPXE script (alpine/ renderIpxeScript), which loads the lab's rescue kernel and
// initramfs (standing in for Alpine's netboot files) over HTTP from the host; OpenRC then starts the agent and the
// real CLI reaches it, with nobody logging in. Restricted user networking: the guest reaches the host only through
// the guest forward at 10.0.2.100:80.
import { mkdtempSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isXepaError } from '../../agent/protocol/errors.js';
import { Inventory } from '../../agent/protocol/index.js';
import { renderIpxeScript } from '../../alpine/index.js';
import { generateControllerKeys } from '../../controller/auth/index.js';
import { runCli } from '../../controller/cli/main.js';
import { captureOutput } from '../support/capture.js';
import { requireBundle } from '../support/paths.js';
import { serveNetboot, type NetbootServer } from './ipxe-http.js';
import { ensureOpenrcRescueImage } from './openrc-image.js';
import { startOuterVm, type OuterVm } from './outer-vm.js';
import { LabFlake, withReportedRetries } from './reported-retry.js';

const DISK = 'XEPA-LAB-NETBOOT';
const HTTP = 'http://10.0.2.100';

describe('the lab server network-booting the rescue system through iPXE', () => {
  const report = (line: string): void => void process.stdout.write(`[lab ipxe] ${line}\n`);
  const work = mkdtempSync(join(tmpdir(), 'xepa-lab-ipxe-'));
  let vm: OuterVm | undefined;
  let http: NetbootServer;
  let keyDir: string;
  let script: string;
  let bootDir: string;

  beforeAll(async () => {
    const image = await ensureOpenrcRescueImage({ log: report });
    keyDir = join(work, 'controller');
    const keys = await generateControllerKeys(keyDir);
    const publicKey = await fsp.readFile(keys.publicKeyPath, 'utf8');
    // The controller's rescue script, with the lab's serial console and the lab kernel's usual switches.
    script = renderIpxeScript({
      kernelUrl: `${HTTP}/vmlinuz`, initrdUrl: `${HTTP}/initrd.img`, apkovlUrl: `${HTTP}/xepa.apkovl.tar.gz`,
      iommu: 'intel', consoles: ['ttyS0'], extraArgs: ['no_timer_check', 'panic=-1', 'loglevel=4'],
    });
    const { value } = await withReportedRetries('ipxe boot', 2, report, async (attempt) => {
      const workDir = join(work, `boot-${attempt}`);
      bootDir = workDir;
      await fsp.mkdir(workDir);
      http = await serveNetboot({
        '/boot.ipxe': { text: script },
        '/vmlinuz': { file: image.kernel },
        '/initrd.img': { file: join(workDir, 'initrd.img') }, // written by startOuterVm: rescue image + agent overlay
      });
      const started = Date.now();
      try {
        const booted = await startOuterVm({
          image, workDir, disks: [{ serial: DISK, sizeMiB: 16 }], log: report,
          guestForwards: [{ guestAddr: '10.0.2.100', guestPort: 80, cmd: `socat - TCP:127.0.0.1:${http.port}` }],
          netboot: { bootfile: `${HTTP}/boot.ipxe` },
          overlay: { agentBundle: requireBundle(), agentConfig: { agentId: 'lab-ipxe', trustedKeys: [publicKey], stateDir: '/run/xepa', accel: 'tcg' } },
        });
        const initrd = http.requests.find((r) => r.path === '/initrd.img');
        report(`netboot: agent answering ${booted.bootSeconds.toFixed(1)} s after QEMU started; initramfs ` +
          `${((initrd?.bytes ?? 0) / 2 ** 20).toFixed(1)} MiB fetched by iPXE in ${((initrd?.ms ?? 0) / 1000).toFixed(1)} s`);
        return booted;
      } catch (err) {
        report(`boot attempt ${attempt} failed after ${((Date.now() - started) / 1000).toFixed(1)} s; console ${join(workDir, 'console.log')}; ` +
          `HTTP requests: ${http.requests.map((r) => `${r.path} ${r.status}`).join(', ') || 'none'}`);
        await http.close();
        throw isXepaError(err, 'ERR_TIMEOUT') || isXepaError(err, 'ERR_QEMU_EXIT') ? new LabFlake((err as Error).message.split('\n')[0]!, { cause: err }) : err;
      }
    });
    vm = value;
  });
  afterAll(async () => {
    await vm?.stop();
    await http?.close();
    if (!process.env.XEPA_LAB_KEEP) await fsp.rm(work, { recursive: true, force: true });
    else report(`kept ${work} (XEPA_LAB_KEEP)`);
  });

  it('boots from the controller\'s iPXE script: script, kernel and initramfs fetched over HTTP, its command line in force', async () => {
    const ok = http.requests.filter((r) => r.status === 200).map((r) => r.path);
    expect(ok.slice(0, 3)).toEqual(['/boot.ipxe', '/vmlinuz', '/initrd.img']);
    const initrd = http.requests.find((r) => r.path === '/initrd.img')!;
    expect(initrd.bytes).toBe((await fsp.stat(join(bootDir, 'initrd.img'))).size);
    // Fetched by the NIC's iPXE ROM (its User-Agent), not by anything in the rescue system.
    expect(http.requests.slice(0, 3).map((r) => r.userAgent)).toEqual([expect.stringMatching(/^iPXE\//), expect.stringMatching(/^iPXE\//), expect.stringMatching(/^iPXE\//)]);
    // The kernel runs with the script's arguments (apkovl=, the IOMMU switches), not with a QEMU -append.
    const cmdline = (await vm!.shell.run('cat /proc/cmdline')).output.trim();
    const kernelLine = script.split('\n').find((l) => l.startsWith('kernel '))!;
    const expected = kernelLine.replace(/^kernel \S+ /, '').replace(/ \|\| goto retry$/, '');
    expect(cmdline).toBe(expected);
    expect(cmdline).toMatch(/intel_iommu=on iommu=pt/);
    expect(Number((await vm!.shell.run('ls /sys/kernel/iommu_groups | wc -l')).output.trim())).toBeGreaterThan(1);
  });

  it('runs the agent from OpenRC with no login, and the real CLI reaches it through the forward', async () => {
    const status = await vm!.shell.run('rc-service xepa-agent status');
    expect(status.output).toMatch(/status: started/);
    const out = captureOutput();
    const code = await runCli(['inventory', vm!.url, '--json', '--fingerprint', vm!.fingerprint, '--key-dir', keyDir], out);
    expect(out.stderr()).toBe('');
    expect(code).toBe(0);
    expect(Inventory.parse(JSON.parse(out.stdout())).disks.map((d) => d.serial)).toContain(DISK);
  });
});
