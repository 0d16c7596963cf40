import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTestIso, type TestIso } from '../../../build/test-iso/index.js';
import { runCli } from '../../../controller/cli/main.js';
import { serveFile } from '../../../controller/demo/file-server.js';
import { createLoopDisk, type LoopDisk } from '../../../controller/demo/loop-disk.js';
import { isTerminal, type JobEvent } from '../../../agent/protocol/index.js';
import { agentBench } from './helpers/agent-bench.js';
import { watchJob } from './helpers/agent-harness.js';
import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';

// The controller's connection is cut in the middle of a real install (CLI -> TCP proxy -> agent bundle -> QEMU
// TCG with the test ISO and a loop disk) and stays down until the job has ended. The job goes on without it; when
// the CLI gets through again it receives every event it missed, exactly once and in order, and exits 0.
// bench.client is a second controller, straight to the agent (the CLI goes through the proxy).
const bench = agentBench('xepa-drop-');
let iso: TestIso;
let disk: LoopDisk;
let proxy: TcpProxy;

beforeAll(async () => {
  iso = await ensureTestIso({});
  disk = bench.hold(await createLoopDisk(join(bench.work, 'disk.img'), 64));
  proxy = bench.hold(await startTcpProxy(Number(new URL(bench.h.agent.url).port)));
});

// The CLI's stdout in --json mode: one JobEvent per line, parsed as it arrives.
function jsonLines(): { stream: PassThrough; events: JobEvent[]; next(pred: (e: JobEvent) => boolean): Promise<JobEvent> } {
  const stream = new PassThrough();
  const events: JobEvent[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  stream.on('data', (b: Buffer) => {
    buf += b.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      events.push(JSON.parse(buf.slice(0, i)) as JobEvent);
      buf = buf.slice(i + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  const next = (pred: (e: JobEvent) => boolean): Promise<JobEvent> =>
    new Promise((resolve) => {
      const check = (): void => {
        const hit = events.find(pred);
        if (hit) resolve(hit);
        else waiters.push(check);
      };
      check();
    });
  return { stream, events, next };
}

async function firstBytes(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(n);
    await fh.read(b, 0, n, 0);
    return b;
  } finally {
    await fh.close();
  }
}

describe('controller connection dropped mid-install', () => {
  it('lets the job finish, and the reconnecting CLI receives every missed event exactly once, in order', async () => {
    const files = await serveFile(iso.iso);
    try {
      const out = jsonLines();
      const err = new PassThrough();
      const errText: string[] = [];
      err.on('data', (b: Buffer) => errText.push(b.toString()));
      const cli = runCli(
        ['install', `wss://127.0.0.1:${proxy.port}`, '--iso-url', files.url, '--sha256', iso.sha256, '--disk', disk.device,
          '--memory', '512', '--yes', '--json', '--fingerprint', bench.h.agent.fingerprint, '--key-dir', bench.h.keyDir],
        { out: out.stream, err },
      );
      const running = await out.next((e) => e.state === 'running');
      proxy.refuse(true);
      proxy.cut();
      const seenBeforeCut = out.events.length;

      const w = watchJob(bench.client, running.job); // the job goes on without the CLI
      await w.done;
      expect(w.events.at(-1)?.state).toBe('done');
      expect(w.events.length).toBeGreaterThan(seenBeforeCut); // events happened while the CLI was away

      proxy.refuse(false);
      const code = await cli;
      expect(code, errText.join('')).toBe(0);
      expect(proxy.connections()).toBeGreaterThanOrEqual(2); // it came back through a new connection
      expect(out.events.map((e) => e.seq)).toEqual(w.events.map((e) => e.seq)); // 1..n, no gap, no duplicate
      expect(out.events).toEqual(w.events);
      expect(out.events.filter((e) => isTerminal(e.state))).toHaveLength(1);

      // The job really finished: the installer wrote the system image onto the disk.
      const img = readFileSync(iso.systemImage).subarray(0, 1 << 20);
      expect((await firstBytes(disk.device, img.length)).equals(img)).toBe(true);
    } finally {
      await files.close();
    }
  });
});
