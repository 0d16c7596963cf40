// The rescue boot's enrolment end to end, minus the netboot itself (the lab's stand-in does not boot the apkovl
// yet): a real `xepa serve` mount on loopback serves a registered host's iPXE script and apkovl; the agent bundle
// and config taken out of that apkovl run as a real agent process, which reports its TLS fingerprint with the
// one-time token; the registry then pins exactly that certificate, and a pinned control session says hello.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENROL_PATH, PROTOCOL_VERSION } from '../../../agent/protocol/index.js';
import { generateControllerKeys, loadControllerKey, mintToken, type GeneratedKeys } from '../../../controller/auth/index.js';
import { startServe, type RunningServe } from '../../../controller/cli/commands/serve.js';
import { connectAgent } from '../../../controller/client/index.js';
import { startLocalAgent, type LocalAgent } from '../../../controller/demo/local-agent.js';
import { readRegistry, registryPath } from '../../../controller/registry/index.js';
import { addRescueHost, createRescueMount, readRescueHosts, rescuePath, rescuePaths } from '../../../controller/rescue/index.js';
import { waitFor } from '../../support/wait-for.js';

const run = promisify(execFile);
const BUNDLE = join(process.cwd(), 'dist', 'xepa-agent.mjs');
const work = mkdtempSync(join(tmpdir(), 'xepa-rescue-enrol-'));
const home = join(work, 'controller');
let keys: GeneratedKeys;
let serve: RunningServe;
let agent: LocalAgent | undefined;
let token = '';

beforeAll(async () => {
  keys = await generateControllerKeys(home);
  serve = await startServe({ host: '127.0.0.1', port: 0 });
  serve.add(createRescueMount({ rescueFile: rescuePath(home), registryFile: registryPath(home), publicUrl: serve.url, controllerPublicKey: keys.publicKey, agentBundle: () => readFile(BUNDLE) }));
  ({ token } = await addRescueHost(rescuePath(home), { host: 'srv-1', agentId: 'xepa-srv-1', ttlSeconds: 600, netboot: { kernelUrl: 'http://192.0.2.1/vmlinuz-lts', initrdUrl: 'http://192.0.2.1/initramfs-lts' } }));
});
afterAll(async () => {
  await agent?.stop();
  await serve?.close();
  rmSync(work, { recursive: true, force: true });
});

const get = (path: string): Promise<Response> => fetch(`${serve.url}${path}`);

describe('rescue boot enrolment', () => {
  it('serves the iPXE script and an apkovl with the public key and the token, never a private key', async () => {
    const ipxe = await (await get(rescuePaths('srv-1').ipxe)).text();
    expect(ipxe).toMatch(/^#!ipxe/);
    expect(ipxe).toContain(`apkovl=${serve.url}${rescuePaths('srv-1').apkovl}`);
    const res = await get(rescuePaths('srv-1').apkovl);
    expect(res.status).toBe(200);
    const ovl = join(work, 'ovl');
    await run('mkdir', ['-p', ovl]);
    const file = join(work, 'srv-1.apkovl.tar.gz');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    await run('tar', ['-xzf', file, '-C', ovl]);
    const config = JSON.parse(readFileSync(join(ovl, 'etc/xepa/agent.json'), 'utf8')) as { agentId: string; trustedKeys: string[]; enrol: { url: string; token: string } };
    expect(config).toMatchObject({ agentId: 'xepa-srv-1', trustedKeys: [keys.publicKey], enrol: { url: `${serve.url}${ENROL_PATH}`, token } });
    expect(readFileSync(join(ovl, 'usr/local/lib/xepa/xepa-agent.mjs')).equals(readFileSync(BUNDLE))).toBe(true);
    const { stdout } = await run('grep', ['-rlE', 'PRIVATE KEY', ovl]).catch((e: { stdout: string; code: number }) => (e.code === 1 ? { stdout: '' } : Promise.reject(e)));
    expect(stdout).toBe('');
    expect((await get(rescuePaths('srv-unknown').apkovl)).status).toBe(404);
  });

  it('pins the booted agent by the fingerprint it reports, once: the token is spent and the artifacts stop', async () => {
    const ovl = join(work, 'ovl');
    agent = await startLocalAgent({ bundle: join(ovl, 'usr/local/lib/xepa/xepa-agent.mjs'), stateDir: join(work, 'state'), trustedKeyFile: keys.publicKeyPath, extraArgs: ['--config', join(ovl, 'etc/xepa/agent.json')] });
    const pinned = await waitFor(async () => (await readRegistry(registryPath(home))).find((a) => a.id === 'xepa-srv-1'), { timeoutMs: 20_000, what: 'the enrolment in agents.json' });
    expect(pinned).toMatchObject({ address: `127.0.0.1:${new URL(agent.url).port}`, fingerprint: agent.fingerprint });
    expect((await readRescueHosts(rescuePath(home)))[0]!.enrolledAt).not.toBeNull();
    const key = await loadControllerKey(home);
    const client = await connectAgent({ url: `wss://${pinned!.address}`, fingerprint: pinned!.fingerprint, token: () => mintToken(key.privateKey, { agentId: pinned!.id, scope: ['control'] }) });
    try {
      expect(await client.call('hello', { protocol: PROTOCOL_VERSION })).toMatchObject({ agentId: 'xepa-srv-1', fingerprint: agent.fingerprint });
    } finally {
      await client.close();
    }
    // Spent: a second enrolment with the same token (an attacker who read the apkovl) is refused; nothing changes.
    const again = await fetch(`${serve.url}${ENROL_PATH}`, { method: 'POST', body: JSON.stringify({ token, agentId: 'xepa-srv-1', fingerprint: 'AB:'.repeat(31) + 'AB', port: 1, version: 'x' }) });
    expect([again.status, ((await again.json()) as { message: string }).message]).toEqual([403, expect.stringMatching(/was spent at/)]);
    expect((await readRegistry(registryPath(home))).find((a) => a.id === 'xepa-srv-1')!.fingerprint).toBe(agent.fingerprint);
    expect((await get(rescuePaths('srv-1').apkovl)).status).toBe(403);
    expect(readFileSync(join(work, 'state', 'enrolled.json'), 'utf8')).toContain('xepa-srv-1');
  });

  it('refuses what is not an enrolment', async () => {
    const bad = await fetch(`${serve.url}${ENROL_PATH}`, { method: 'POST', body: '{"token":"x"}' });
    expect(bad.status).toBe(400);
    expect((await fetch(`${serve.url}${ENROL_PATH}`)).status).toBe(400);
  });
});
