// `xepa finish` end to end: controller CLI -> agent bundle -> the job's saved partition tables, the finish
// report (this host boots BIOS: no UEFI entry to make), and a partition table written back on request.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestIso, type TestIso } from '../../../build/test-iso/index.js';
import { runCli } from '../../../controller/cli/main.js';
import type { LocalAgent } from '../../../controller/demo/local-agent.js';
import { createLoopDisk, type LoopDisk } from '../../../controller/demo/loop-disk.js';
import type { FinishReport, Plan } from '../../../agent/protocol/index.js';
import { captureOutput } from '../../support/capture.js';
import { startTestAgent } from '../../support/test-agent.js';

function serve(file: string): Promise<{ url: string; close(): void }> {
  const server: Server = createServer((_req, res) => createReadStream(file).pipe(res));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    resolve({ url: `http://127.0.0.1:${port}/installer.iso`, close: () => { server.closeAllConnections(); server.close(); } });
  }));
}

describe('xepa finish', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-finish-cli-'));
  let iso: TestIso;
  let agent: LocalAgent;
  let disk: LoopDisk;
  let keyDir: string;
  let job = '';

  beforeAll(async () => {
    iso = await ensureTestIso({});
    keyDir = join(work, 'ctl');
    disk = await createLoopDisk(join(work, 'disk.img'), 64);
    agent = await startTestAgent(work, keyDir); // its ISO server is on loopback
  });
  afterAll(async () => {
    await agent?.stop();
    await disk?.detach();
    rmSync(work, { recursive: true, force: true });
  });

  const cli = (args: string[]) => {
    const o = captureOutput();
    return runCli([...args, '--fingerprint', agent.fingerprint, '--key-dir', keyDir], o).then((code) => ({ code, out: o.stdout(), err: o.stderr() }));
  };

  it('plans with a fidelity report: boot mode, identity, TPM, NIC, what differs', async () => {
    const r = await cli(['plan', agent.url, '--iso-url', 'http://127.0.0.1:9/x.iso', '--sha256', iso.sha256, '--disk', disk.device, '--json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out) as Plan;
    expect(plan.fidelity).toMatchObject({ firmware: { vm: plan.firmware }, cpu: { model: 'max' }, nic: { mode: 'user' } });
    expect(plan.fidelity!.differences.length).toBeGreaterThan(0);
    const human = await cli(['plan', agent.url, '--iso-url', 'http://127.0.0.1:9/x.iso', '--sha256', iso.sha256, '--disk', disk.device]);
    expect(human.out).toMatch(/fidelity \(server vs VM\):/);
    expect(human.out).toMatch(/differs: /);
  });

  it('installs, then finishes: VM ended, disk back, backup saved here, a non-Linux system reported, BIOS boot code checked, installed system boot-checked, no reboot', async () => {
    const server = await serve(iso.iso);
    try {
      const r = await cli(['install', agent.url, '--iso-url', server.url, '--sha256', iso.sha256, '--disk', disk.device, '--memory', '512', '--yes']);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/saved before the install: .* \(no partition table\)/);
    } finally {
      server.close();
    }
    job = (JSON.parse((await cli(['jobs', agent.url, '--json'])).out) as { id: string }[])[0]!.id;
    // The test installer's system is a hybrid ISO image, not a Linux root finish can configure: by default
    // (--network rescue) finish says so and moves nothing; --network keep moves it with the network untouched.
    const refused = await cli(['finish', agent.url, job, '--json']);
    const r0 = JSON.parse(refused.out) as FinishReport;
    expect(refused.code).toBe(1);
    expect(r0.steps.find((s) => s.step === 'root')).toMatchObject({ status: 'fail' });
    expect(r0.steps.find((s) => s.step === 'root')!.message).toMatch(/no installed Linux root on .*found .* iso9660.*--network keep/);
    const f = await cli(['finish', agent.url, job, '--network', 'keep', '--check-banner', iso.marker, '--banner-timeout', '150', '--json']);
    const report = JSON.parse(f.out) as FinishReport;
    expect(Object.fromEntries(report.steps.map((s) => [s.step, s.status])), JSON.stringify(report.steps)).toEqual({ vm: 'ok', devices: 'ok', backup: 'ok', root: 'warn', network: 'skipped', efi: 'skipped', bios: 'ok', check: 'ok', reboot: 'skipped' });
    expect(report.steps.find((s) => s.step === 'bios')!.message).toMatch(/GRUB boot code, core image at sector \d+ inside/);
    expect(report).toMatchObject({ ok: true, rebooting: false });
    expect(report.steps.find((s) => s.step === 'check')!.message).toContain(iso.marker);
    expect(f.code).toBe(0);
    const saved = readdirSync(join(keyDir, 'backups', agent.agentId, job));
    expect(saved).toHaveLength(1);
  });

  it('writes the saved raw ends back on request: the installer\'s boot sector is gone again', async () => {
    expect(readFileSync(disk.image).subarray(0, 512).some((b) => b !== 0)).toBe(true); // the installer wrote it
    const r = await cli(['finish', agent.url, job, '--restore-partition-table', disk.device, '--mode', 'raw']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/restored as saved/);
    const head = readFileSync(disk.image).subarray(0, 1024 * 1024);
    expect(head.every((b) => b === 0)).toBe(true);
  });

  it('refuses an sfdisk restore of a disk that had no partition table', async () => {
    const r = await cli(['finish', agent.url, job, '--restore-partition-table', disk.device]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('ERR_BAD_REQUEST');
  });
});
