// One lab per test file: builds (or takes from the cache) the rescue image, makes controller keys, serves the
// test ISO to the guest, boots the outer VM and gives the test the real CLI pointed at the agent inside.
import { mkdtempSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isXepaError } from '../../agent/protocol/errors.js';
import { ensureTestIso, type TestIso } from '../../build/test-iso/index.js';
import { generateControllerKeys } from '../../controller/auth/index.js';
import { runCli } from '../../controller/cli/main.js';
import { serveFile } from '../../controller/demo/file-server.js';
import { captureOutput } from '../support/capture.js';
import { requireBundle } from '../support/paths.js';
import type { GuestForward, UefiFirmware } from './outer-vm-args.js';
import { startOuterVm, type LabDiskSpec, type OuterVm } from './outer-vm.js';
import { LabFlake, withReportedRetries } from './reported-retry.js';
import { ensureRescueImage, type RescueImage } from './rescue-image.js';

// The guest address where the test ISO is served (QEMU guestfwd -> socat -> the host's loopback server).
export const ISO_GUEST_ADDR = '10.0.2.100';

// What a lab test asks for.
export interface LabOptions {
  name: string;
  disks: LabDiskSpec[];
  // Serve the test ISO to the guest at isoUrl (needed for installs).
  serveIso?: boolean;
  // The agent's accelerator setting: 'auto' (default) lets its KVM probe decide, which takes 30-90 s nested in
  // TCG; scenarios whose VM never runs to the end pass 'tcg' to skip it.
  accel?: 'auto' | 'kvm' | 'tcg';
  // Extra agent configuration merged into /etc/xepa/agent.json.
  agentConfig?: Record<string, unknown>;
  // Another rescue image than the default (e.g. ensureOpenrcRescueImage, the OpenRC variant).
  image?: (opts: { log: (line: string) => void }) => Promise<RescueImage>;
  // The served test ISO's firmware (ensureTestIso): 'both' adds UEFI GRUB to the ISO and the system image.
  isoFirmware?: 'bios' | 'both';
  // Boot the server with UEFI: OVMF code + a VARS file (copied by the caller; kept across boots = the NVRAM).
  uefi?: UefiFirmware;
}

// The lab gives the agent's KVM probe this long (its default of 20 s is too short nested in TCG, ~30 s here)
// and waits a little longer for the verdict.
export const PROBE_TIMEOUT_SECONDS = 150;
const ACCEL_TIMEOUT_MS = (PROBE_TIMEOUT_SECONDS + 30) * 1000;

// One CLI invocation's outcome.
export interface CliResult {
  code: number;
  out: string;
  err: string;
}

// A booted lab and the tools to drive it.
export interface Lab {
  vm: OuterVm;
  image: RescueImage;
  work: string;
  keyDir: string;
  iso?: TestIso;
  isoUrl?: string;
  // Runs `xepa VERB <agent> ARGS... --fingerprint FP --key-dir DIR` in-process (the real CLI code).
  cli(verb: string, ...args: string[]): Promise<CliResult>;
  // Prints a line into the test output (timings, retries): reported, never hidden.
  report(line: string): void;
  stop(): Promise<void>;
}

// Boots a lab; everything started is stopped again if booting fails.
export async function startLab(o: LabOptions): Promise<Lab> {
  const report = (line: string): void => void process.stdout.write(`[lab ${o.name}] ${line}\n`);
  const work = mkdtempSync(join(tmpdir(), `xepa-lab-${o.name}-`));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const t0 = Date.now();
    const image = await (o.image ?? ensureRescueImage)({ log: (l) => report(l) });
    report(`rescue image ${image.key}: ${image.cached ? 'cached' : 'built'} (build took ${image.buildSeconds.toFixed(1)} s, ` +
      `${(image.sizeBytes / 2 ** 20).toFixed(1)} MiB); ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const keyDir = join(work, 'controller');
    const keys = await generateControllerKeys(keyDir);
    const publicKey = await fsp.readFile(keys.publicKeyPath, 'utf8');

    let iso: TestIso | undefined;
    let isoUrl: string | undefined;
    const guestForwards: GuestForward[] = [];
    if (o.serveIso) {
      iso = await ensureTestIso({ log: (l) => report(l), ...(o.isoFirmware ? { firmware: o.isoFirmware } : {}) });
      const server = await serveFile(iso.iso);
      cleanups.push(() => server.close());
      const port = new URL(server.url).port;
      guestForwards.push({ guestAddr: ISO_GUEST_ADDR, guestPort: 80, cmd: `socat - TCP:127.0.0.1:${port}` });
      isoUrl = `http://${ISO_GUEST_ADDR}/${new URL(server.url).pathname.slice(1)}`;
    }

    // Booting is retried (reported) when it fails the way nested virtualization does here: the outer VM stalls
    // (no agent, no KVM verdict) or its kernel panics early. Each attempt keeps its console in boot-N/.
    const { value: vm } = await withReportedRetries('lab boot', 2, report, async (attempt) => {
      const workDir = join(work, `boot-${attempt}`);
      await fsp.mkdir(workDir);
      const booted = await startOuterVm({
        image, workDir, disks: o.disks, guestForwards, log: report, ...(o.uefi ? { uefi: o.uefi } : {}),
        overlay: {
          agentBundle: requireBundle(),
          agentConfig: {
            agentId: `lab-${o.name}`, trustedKeys: [publicKey], stateDir: '/run/xepa', accel: o.accel ?? 'auto',
            probeTimeoutSeconds: PROBE_TIMEOUT_SECONDS, ...o.agentConfig,
          },
        },
      }).catch((err: unknown) => {
        report(`boot attempt ${attempt} failed; its console is ${join(workDir, 'console.log')}`);
        throw isXepaError(err, 'ERR_TIMEOUT') || isXepaError(err, 'ERR_QEMU_EXIT') ? new LabFlake(firstLine(err), { cause: err }) : err;
      });
      report(`console: ${booted.consoleLog}`);
      if ((o.accel ?? 'auto') !== 'auto') return booted;
      try {
        // The agent probes KVM by booting a kernel under it (30-90 s nested in TCG); plans wait for that verdict.
        const t1 = Date.now();
        const line = await booted.waitForConsole(/"msg":"accelerator chosen"/, 0, ACCEL_TIMEOUT_MS);
        const accel = JSON.parse(line.replace(/^[^{]*/, '')) as { accel: string; reason: string };
        report(`the agent chose ${accel.accel} for its VMs (${accel.reason}); verdict ${((Date.now() - t1) / 1000).toFixed(1)} s after the agent answered`);
        return booted;
      } catch (err) {
        await booted.stop();
        throw new LabFlake(`no KVM verdict from the agent: ${firstLine(err)}`, { cause: err });
      }
    });
    cleanups.push(() => vm.stop());

    const cli = async (verb: string, ...args: string[]): Promise<CliResult> => {
      const out = captureOutput();
      const code = await runCli([verb, vm.url, ...args, '--fingerprint', vm.fingerprint, '--key-dir', keyDir], out);
      return { code, out: out.stdout(), err: out.stderr() };
    };
    const stop = async (): Promise<void> => {
      for (const c of cleanups.reverse()) await c().catch((err: unknown) => report(`cleanup failed: ${String(err)}`));
      cleanups.length = 0;
      if (!process.env.XEPA_LAB_KEEP) await fsp.rm(work, { recursive: true, force: true });
      else report(`kept ${work} (XEPA_LAB_KEEP)`);
    };
    return { vm, image, work, keyDir, ...(iso ? { iso } : {}), ...(isoUrl ? { isoUrl } : {}), cli, report, stop };
  } catch (err) {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    report(`boot failed; work dir kept for inspection: ${work}`);
    throw err;
  }
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
