import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateControllerKeys } from '../../../controller/auth/index.js';
import { fetchAgentIdentity } from '../../../controller/client/index.js';
import { startLocalAgent, type LocalAgent } from '../../../controller/demo/local-agent.js';
import { requireBundle } from '../../support/paths.js';

// "Copy it alone to an empty directory and start it": the agent is one file, no node_modules beside it.
describe('the agent bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xepa-bundle-'));
  let agent: LocalAgent;

  beforeAll(async () => {
    const lone = join(dir, 'empty', 'xepa-agent.mjs');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'empty')));
    copyFileSync(requireBundle(), lone);
    const keys = await generateControllerKeys(join(dir, 'ctl'));
    agent = await startLocalAgent({ bundle: lone, stateDir: join(dir, 'state'), trustedKeyFile: keys.publicKeyPath, extraArgs: ['--accel', 'tcg'] });
  });
  afterAll(async () => {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs alone from an empty directory and answers health over pinned TLS', async () => {
    expect(readdirSync(join(dir, 'empty'))).toEqual(['xepa-agent.mjs']);
    const id = await fetchAgentIdentity({ url: agent.url, fingerprint: agent.fingerprint });
    expect(id.agentId).toBe(agent.agentId);
    expect(id.fingerprint).toBe(agent.fingerprint);
  });

  it('refuses a control WebSocket without a token before any upgrade', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const port = Number(new URL(agent.url.replace('wss:', 'https:')).port);
      const req = request({
        host: '127.0.0.1', port, path: '/v1/control', rejectUnauthorized: false,
        headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => reject(new Error('upgraded without a token')));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(401);
  });

  it('keeps its TLS identity across restarts (the pinned fingerprint stays valid)', async () => {
    const before = agent.fingerprint;
    await agent.stop();
    const keys = join(dir, 'ctl', 'controller-key.pub.pem');
    agent = await startLocalAgent({ bundle: join(dir, 'empty', 'xepa-agent.mjs'), stateDir: join(dir, 'state'), trustedKeyFile: keys, extraArgs: ['--accel', 'tcg'] });
    expect(agent.fingerprint).toBe(before);
  });
});
