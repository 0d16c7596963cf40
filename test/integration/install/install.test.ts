import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestIso, type TestIso } from '../../../build/test-iso/index.js';
import { generateControllerKeys } from '../../../controller/auth/index.js';
import { runCli } from '../../../controller/cli/main.js';
import { bootDiskUntilMarker } from '../../../controller/qemu/index.js';
import { startLocalAgent, type LocalAgent } from '../../../controller/demo/local-agent.js';
import { createLoopDisk, loopDevicesUnder, type LoopDisk } from '../../../controller/demo/loop-disk.js';
import { captureOutput } from '../../support/capture.js';
import { requireBundle } from '../../support/paths.js';

// Serves the ISO but cuts the first response after `cutAt` bytes, so the agent must resume with Range.
function cuttingServer(file: string, cutAt: number): Promise<{ url: string; ranges: string[]; close(): void }> {
  const size = statSync(file).size;
  const ranges: string[] = [];
  let cut = false;
  const server: Server = createServer((req, res) => {
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) ranges.push(req.headers.range!);
    const start = m ? Number(m[1]) : 0;
    res.writeHead(m ? 206 : 200, {
      'Content-Length': size - start, 'Accept-Ranges': 'bytes', ETag: '"iso-1"',
      ...(m ? { 'Content-Range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    const stream = createReadStream(file, { start, ...(cut ? {} : { end: cutAt - 1 }) });
    stream.pipe(res, { end: cut });
    if (!cut) {
      cut = true;
      stream.on('end', () => res.socket?.destroy());
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    resolve({ url: `http://127.0.0.1:${port}/installer.iso`, ranges, close: () => { server.closeAllConnections(); server.close(); } });
  }));
}

// The main job for real: controller CLI -> agent bundle -> QEMU (TCG) with the test ISO and a loop device.
// Each test has its own agent (its own jobs and ISO cache) and its own disk, so each passes alone and in any order.
describe('an install end to end', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-e2e-'));
  let iso: TestIso;
  let keyDir: string;
  let trustedKeyFile: string;
  const agents: LocalAgent[] = [];
  const disks: LoopDisk[] = [];
  let n = 0;

  beforeAll(async () => {
    iso = await ensureTestIso({});
    keyDir = join(work, 'ctl');
    trustedKeyFile = (await generateControllerKeys(keyDir)).publicKeyPath;
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    for (const d of disks.splice(0)) await d.detach();
  });
  afterAll(async () => {
    expect(await loopDevicesUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  // A fresh agent and a fresh 128 MiB disk; `system` first writes the test system image onto the disk.
  async function fresh(o: { system?: boolean } = {}) {
    const id = n++;
    const disk = await createLoopDisk(join(work, `disk-${id}.img`), 128);
    disks.push(disk);
    if (o.system) await pipeline(createReadStream(iso.systemImage), createWriteStream(disk.device, { flags: 'r+' }));
    const stateDir = join(work, `agent-${id}`);
    // its ISO server is on loopback
    const agent = await startLocalAgent({ bundle: requireBundle(), stateDir, trustedKeyFile, extraArgs: ['--accel', 'tcg', '--allow-local-iso-urls'] });
    agents.push(agent);
    const cli = (args: string[]) => {
      const out = captureOutput();
      return runCli([...args, '--fingerprint', agent.fingerprint, '--key-dir', keyDir], out).then((code) => ({ code, out: out.stdout(), err: out.stderr() }));
    };
    const jobStates = async (): Promise<string[]> => (JSON.parse((await cli(['jobs', agent.url, '--json'])).out) as { state: string }[]).map((j) => j.state);
    return { agent, disk, stateDir, cli, jobStates };
  }

  it('refuses an ISO whose digest does not match, and never boots it', async () => {
    const { agent, disk, cli, jobStates } = await fresh();
    const server = await cuttingServer(iso.iso, 1 << 20);
    try {
      const r = await cli(['install', agent.url, '--iso-url', server.url, '--sha256', 'f'.repeat(64), '--disk', disk.device, '--memory', '512', '--yes']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('ERR_FETCH_DIGEST');
      expect(r.err).not.toMatch(/booting/);
      expect(r.err).toMatch(/failed/);
    } finally {
      server.close();
    }
    expect(await jobStates()).toEqual(['failed']);
  });

  it('installs the ISO onto the named disk through a cut download, and the disk then boots alone', async () => {
    const { agent, disk, cli, jobStates } = await fresh();
    const server = await cuttingServer(iso.iso, 4 << 20);
    try {
      const r = await cli(['install', agent.url, '--iso-url', server.url, '--sha256', iso.sha256, '--disk', disk.device, '--memory', '512', '--yes']);
      expect(r.err).toMatch(/verifying/);
      expect(r.err).toMatch(/running .*installer running under TCG/);
      expect(r.err).toMatch(/done +install finished/);
      expect(r.code).toBe(0);
      // the line after "job ... started on ..." says how to open the installer's screen from here (never the
      // agent-side VNC socket path, a file only the agent may open)
      const lines = r.err.split('\n');
      const started = lines.findIndex((l) => /^job \S+ started on \S+$/.test(l));
      expect(started, r.err).toBeGreaterThanOrEqual(0);
      expect(lines[started + 1]).toContain(`the installer's screen: xepa console ${agent.url} --vnc-port 5901 --job `);
      expect(lines[started + 2]).toContain(`xepa serve --agent ${agent.url} --fingerprint ${agent.fingerprint}`);
      expect(r.err).not.toMatch(/VNC socket on the agent/);
      // resumed once, from what had arrived before the cut (at most the cut point)
      expect(server.ranges).toHaveLength(1);
      const from = Number(/^bytes=(\d+)-$/.exec(server.ranges[0]!)?.[1]);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThanOrEqual(4 << 20);
    } finally {
      server.close();
    }
    expect(await jobStates()).toEqual(['done']);

    const boot = await bootDiskUntilMarker({ disk: disk.image, marker: iso.marker, timeoutMs: 150_000, accel: 'tcg' });
    expect(boot.serialTail.join('\n')).toContain(iso.marker);
    expect(boot.ok).toBe(true);
  });

  it('installs over a disk that already boots a system: the CD boots first, once', async () => {
    // The disk holds the system image the installer writes (byte for byte), which boots alone (the test above).
    const { agent, disk, stateDir, cli } = await fresh({ system: true });
    const server = await cuttingServer(iso.iso, 64 << 20); // no cut: the ISO is smaller
    try {
      const r = await cli(['install', agent.url, '--iso-url', server.url, '--sha256', iso.sha256, '--disk', disk.device, '--memory', '512', '--yes', '--json']);
      expect(r.code).toBe(0);
      const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { job: string });
      const serial = readFileSync(join(stateDir, 'jobs', events[0]!.job, 'serial0.log'), 'utf8');
      expect(serial).toContain('XEPA-INSTALLER-DONE'); // the installer ran, not the system already on the disk
      expect(serial).not.toContain(iso.marker);
    } finally {
      server.close();
    }
  });
});
