import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type JobEvent } from '../../../agent/protocol/index.js';
import { RfbClient, wsTransport } from '../../../bench/console-rfb-client.js';
import { ensureTestIso, type TestIso } from '../../../build/test-iso/index.js';
import { loadControllerKey, mintToken } from '../../../controller/auth/index.js';
import { connectAgent } from '../../../controller/client/index.js';
import { createStreamContext, readScreenshot, runQmpCommand, type StreamContext } from '../../../controller/console/index.js';
import { serveFile } from '../../../controller/demo/file-server.js';
import type { LocalAgent } from '../../../controller/demo/local-agent.js';
import { createLoopDisk, type LoopDisk } from '../../../controller/demo/loop-disk.js';
import { startTestAgent } from '../../support/test-agent.js';

// The consoles of a real install job in the bundled agent: the job's VM is found without naming it, its QMP
// connection is the supervisor's. The guest is paused over /v1/qmp as soon as the job runs, so the checks
// never race the installer (which powers off when done), then resumed so the job ends as usual.
describe('consoles of a running install job (bundled agent, test ISO)', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-job-consoles-'));
  let iso: TestIso;
  let agent: LocalAgent;
  let disk: LoopDisk;
  let ctx: StreamContext;
  let keyDir: string;

  beforeAll(async () => {
    iso = await ensureTestIso({});
    keyDir = join(work, 'controller');
    disk = await createLoopDisk(join(work, 'disk.img'), 128);
    agent = await startTestAgent(work, keyDir); // its ISO server is on loopback
    ctx = await createStreamContext({ url: agent.url, fingerprint: agent.fingerprint, keyDir });
  });
  afterAll(async () => {
    await agent?.stop();
    await disk?.detach();
    rmSync(work, { recursive: true, force: true });
  });

  it('serves the VNC screen, QMP, the serial scrollback and a screenshot of the job VM, then lets the job finish', async () => {
    const server = await serveFile(iso.iso);
    const key = await loadControllerKey(keyDir);
    const client = await connectAgent({ url: agent.url, fingerprint: agent.fingerprint, token: () => mintToken(key.privateKey, { agentId: agent.agentId, scope: ['control'] }) });
    try {
      await client.call('hello', { protocol: PROTOCOL_VERSION });
      const job = await client.call('install', { iso: { url: server.url, sha256: iso.sha256 }, disks: [{ path: disk.device }], vm: { memoryMiB: 512 } });
      const states: string[] = [];
      let onRunning: () => void = () => undefined;
      const running = new Promise<void>((r) => (onRunning = r));
      const finished = client.followJob(job.id, {
        onEvent: (e: JobEvent) => {
          states.push(e.state);
          if (e.state === 'running') onRunning();
        },
      });
      await running;
      const qmp = async (command: string): Promise<void> => {
        const ws = await ctx.open('qmp', { path: '/v1/qmp', subprotocols: ['xepa'] });
        await runQmpCommand(ws, command);
        ws.close();
      };
      await qmp('stop');

      const status = await ctx.open('qmp', { path: '/v1/qmp', query: { job: job.id }, subprotocols: ['xepa'] });
      expect(await runQmpCommand(status, 'query-status')).toMatchObject({ status: 'paused', running: false });
      status.close();

      const rfb = await RfbClient.connect(wsTransport(await ctx.open('vnc:view', { path: '/v1/vnc' })));
      const update = rfb.nextUpdate();
      rfb.requestUpdate(false);
      expect((await update).full).toBe(true);
      rfb.close();

      const shot = await readScreenshot(await ctx.open('vnc:view', { path: '/v1/screendump', subprotocols: ['xepa'] }));
      expect(shot.png.subarray(1, 4).toString('latin1')).toBe('PNG');

      // A first serial viewer from the start; once the installer has printed, pause again and bring a late one:
      // its first message (the scrollback) holds what was printed before it came.
      const early = await ctx.open('serial', { path: '/v1/serial/0' });
      let earlyText = '';
      let onLine: () => void = () => undefined;
      const sawInstaller = new Promise<void>((r) => (onLine = r));
      early.on('message', (d: Buffer) => {
        earlyText += d.toString('latin1');
        if (earlyText.includes('XEPA-INSTALLER: kernel')) onLine();
      });
      early.resume();
      await qmp('cont');
      await sawInstaller;
      await qmp('stop');
      const late = await ctx.open('serial', { path: '/v1/serial/0' });
      const scrollback = new Promise<Buffer>((r) => late.once('message', (d: Buffer) => r(d)));
      late.resume();
      expect((await scrollback).toString('latin1')).toContain('XEPA-INSTALLER: kernel');
      late.close();
      await qmp('cont');
      await finished;
      early.close();
      expect(states.at(-1)).toBe('done');
      const gone = (await ctx.open('vnc', { path: '/v1/vnc', query: { job: job.id } }).catch((e: unknown) => e)) as { code?: string };
      expect(gone.code).toBe('ERR_JOB_STATE');
    } finally {
      client.close();
      await server.close();
    }
  });
});
