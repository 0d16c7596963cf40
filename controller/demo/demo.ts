import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_PACKAGES, ensureDebianPackages } from '../../build/host-deps.js';
import { ensureTestIso } from '../../build/test-iso/index.js';
import { generateControllerKeys } from '../auth/index.js';
import { bootDiskUntilMarker } from '../qemu/index.js';
import { serveFile } from './file-server.js';
import { startLocalAgent, type LocalAgent } from './local-agent.js';
import { createLoopDisk, loopDevicesUnder, type LoopDisk } from './loop-disk.js';

// Where the agent bundle is: beside this bundle (dist/), or dist/ of the repository when run from source.
function agentBundle(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, 'xepa-agent.mjs'), join(here, '..', '..', 'dist', 'xepa-agent.mjs')]) if (existsSync(p)) return p;
  throw new Error('dist/xepa-agent.mjs not found: run `npm run build` first');
}

// What the demo is told: its options, where its report goes, and how to run `xepa install` (the CLI's verb, given
// by the caller so that the demo goes through the controller exactly as a user would, without importing the CLI).
export interface DemoOptions {
  keep: boolean; // keep the temporary files (disk image, agent state) for a look afterwards
  memoryMiB: number; // the installer VM's memory
  skipPackages: boolean; // do not check or install the Debian packages
  say: (line: string) => void; // one line of the step-by-step report
  install: (argv: string[]) => Promise<number>; // `xepa install ARGV`, its exit code
}

// The whole install on one machine, with a report of every step; ok when the installed disk boots. Cleans up
// after itself (the agent stopped, the loop device detached, the files removed unless `keep`).
export async function runDemo(d: DemoOptions): Promise<{ ok: boolean; seconds: number }> {
  const say = d.say;
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'xepa-demo-'));
  let agent: LocalAgent | undefined;
  let disk: LoopDisk | undefined;
  let server: { url: string; close(): Promise<void> } | undefined;
  let ok = false;
  try {
    say('[1/7] host packages');
    if (!d.skipPackages) {
      const { installed } = await ensureDebianPackages([...DEMO_PACKAGES], { log: say });
      say(`      ${installed.length ? `installed ${installed.join(' ')}` : 'all present'}`);
    }
    say('[2/7] test installer ISO (Debian kernel + busybox, built from Debian packages, cached)');
    const iso = await ensureTestIso({ log: (l) => say(`      ${l}`) });
    say(`      ${iso.iso} (${(iso.size / 1048576).toFixed(1)} MiB, sha256 ${iso.sha256.slice(0, 16)}…)`);

    say('[3/7] controller key pair');
    const keyDir = join(work, 'controller');
    const keys = await generateControllerKeys(keyDir);
    say(`      ${keys.publicKeyPath}`);

    say('[4/7] a server disk: sparse image on a loop device');
    disk = await createLoopDisk(join(work, 'disk.img'), 128);
    say(`      ${disk.device} backed by ${disk.image} (128 MiB)`);

    say('[5/7] agent on loopback');
    // The demo serves its ISO on loopback, which an agent refuses unless the operator allows it.
    agent = await startLocalAgent({ bundle: agentBundle(), stateDir: join(work, 'agent'), trustedKeyFile: keys.publicKeyPath, probeKernel: iso.kernel, extraArgs: ['--allow-local-iso-urls'] });
    say(`      ${agent.url} (pid ${agent.pid}), agent id ${agent.agentId}, TLS fingerprint ${agent.fingerprint}`);

    say('[6/7] install through the controller: xepa install ... --disk ' + disk.device);
    server = await serveFile(iso.iso);
    const code = await d.install([agent.url, '--iso-url', server.url, '--sha256', iso.sha256, '--disk', disk.device,
      '--memory', String(d.memoryMiB), '--yes', '--fingerprint', agent.fingerprint, '--key-dir', keyDir]);
    if (code !== 0) throw new Error(`the install did not finish (exit ${code}); agent log: ${join(work, 'agent')}`);

    say('[7/7] boot the installed disk alone (no ISO, snapshot: nothing written)');
    await disk.detach();
    const boot = await bootDiskUntilMarker({ disk: disk.image, marker: iso.marker, timeoutMs: 180_000, accel: 'tcg' });
    for (const l of boot.serialTail.slice(-4)) say(`      | ${l}`);
    if (!boot.ok) throw new Error(`the installed system did not print ${iso.marker} within the time limit`);
    say(`      ${iso.marker} seen after ${boot.seconds.toFixed(1)} s`);
    ok = true;
  } catch (err) {
    say(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await server?.close();
    await agent?.stop();
    await disk?.detach().catch((err) => say(`cannot detach ${disk?.device}: ${(err as Error).message}`));
    const left = await loopDevicesUnder(work).catch(() => []);
    if (left.length) say(`warning: loop devices still attached: ${left.join(' ')}`);
    if (!d.keep) await fs.rm(work, { recursive: true, force: true });
    say(`cleanup: agent stopped, loop device detached${d.keep ? `, files kept in ${work}` : ', temporary files removed'}`);
  }
  return { ok, seconds: (Date.now() - started) / 1000 };
}
