import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XepaError } from '../../../agent/protocol/index.js';
import { createStreamContext, type StreamContext } from '../../../controller/console/index.js';
import type { LocalAgent } from '../../../controller/demo/local-agent.js';
import { startTestAgent } from '../../support/test-agent.js';

// The console routes as the shipped agent bundle serves them (composition in agent/main.ts; node-pty external).
describe('consoles of the bundled agent', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-console-bundle-'));
  let agent: LocalAgent;
  let ctx: StreamContext;

  beforeAll(async () => {
    const keyDir = join(work, 'controller');
    agent = await startTestAgent(work, keyDir, { allowLocalIsoUrls: false });
    ctx = await createStreamContext({ url: agent.url, fingerprint: agent.fingerprint, keyDir });
  });
  afterAll(async () => {
    await agent?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses /v1/vnc, /v1/serial/0 and /v1/qmp with ERR_NOT_FOUND while no job has a running VM', async () => {
    for (const [path, scope] of [['/v1/vnc', 'vnc'], ['/v1/serial/0', 'serial'], ['/v1/qmp', 'qmp'], ['/v1/screendump', 'vnc:view']] as const) {
      const err = (await ctx.open(scope, { path }).catch((e: unknown) => e)) as XepaError;
      expect(err.code, path).toBe('ERR_NOT_FOUND');
      expect(err.message).toMatch(/no job has a running VM/);
    }
  });

  it('runs a command in /v1/shell, loading node-pty lazily from the bundle', async () => {
    const ws = await ctx.open('shell', { path: '/v1/shell', subprotocols: ['binary'] });
    const out: Buffer[] = [];
    const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
    ws.on('message', (d: Buffer, isBinary: boolean) => isBinary && out.push(d));
    ws.resume();
    ws.send(Buffer.from('echo "answer=$((6*7))"; exit 0\r'), { binary: true });
    expect(await closed).toBe(1000);
    expect(Buffer.concat(out).toString()).toMatch(/answer=42/);
  });
});
