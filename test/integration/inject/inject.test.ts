import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateControllerKeys } from '../../../controller/auth/index.js';
import { runCli } from '../../../controller/cli/main.js';
import { openSession } from '../../../controller/cli/session.js';
import { readRegistry } from '../../../controller/registry/index.js';
import { requireBundle } from '../../support/paths.js';
import { copyDebianRoot, ensureCachedDebianRoot, LEFT_FOR_THE_INJECTOR, type DebianRoot } from './debian-root.js';
import { freePort, startSshd, type TestSshd } from './sshd.js';

// `xepa inject` against a real OpenSSH server whose sessions are chrooted into a Debian 12 root (debootstrap,
// Debian's own node 18): the real bundle is uploaded, started, probed over SSH, and then reached from here.
describe('xepa inject into a Debian root over real SSH', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-inject-'));
  const home = join(work, 'controller');
  const knownHosts = join(work, 'known_hosts');
  let root: DebianRoot;
  let sshd: TestSshd;
  let agentPort: number;
  let target: string;

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const w = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(c.toString()), cb()) });
    const code = await runCli(argv, { out: w((s) => (out += s)), err: w((s) => (err += s)) });
    return { code, out, err };
  }
  // A private copy of the bundle: other builds may rewrite dist/ while these tests run.
  const bundle = join(work, 'bundle', 'xepa-agent.mjs');
  const inject = (...extra: string[]) =>
    cli('inject', target, '--key-dir', home, '--agent-port', String(agentPort), '--listen', '127.0.0.1', '--accel', 'tcg', ...(extra.includes('--bundle') ? [] : ['--bundle', bundle]), ...extra);
  const under = (p: string): string => join(root.path, p);
  const agentPid = (): number => Number(readFileSync(under('run/xepa-agent.pid'), 'utf8').trim());

  beforeAll(async () => {
    mkdirSync(dirname(bundle), { recursive: true });
    copyFileSync(requireBundle(), bundle);
    const cached = await ensureCachedDebianRoot((l) => process.stderr.write(`${l}\n`));
    root = await copyDebianRoot(cached, 'inject');
    sshd = await startSshd(join(work, 'sshd'), root.path);
    await generateControllerKeys(home);
    agentPort = await freePort();
    target = `ssh://root@127.0.0.1:${sshd.port}`;
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyLine}\n`);
  }, 900_000); // the first run builds the cached Debian root with debootstrap (minutes); later runs copy it

  afterAll(async () => {
    try {
      if (root && existsSync(under('run/xepa-agent.pid'))) process.kill(agentPid(), 'SIGTERM');
    } catch {
      // already gone
    }
    await sshd?.stop();
    await root?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a host key other than the expected one before authenticating, and uploads nothing', async () => {
    const wrong = `SHA256:${Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '')}`;
    const r = await inject('--identity', sshd.clientKey, '--host-key', wrong);
    expect(r.err).toContain('ERR_SSH_HOST_KEY');
    expect(r.err).toContain(sshd.hostKeyFingerprint);
    expect(r.code).toBe(1);
    expect(sshd.log()).not.toContain('Accepted publickey');
    expect(existsSync(under('usr/local/lib/xepa'))).toBe(false);
    expect(existsSync(under('etc/xepa'))).toBe(false);
  });

  it('refuses a host key missing from known_hosts unless first-use acceptance is asked for', async () => {
    const empty = join(work, 'empty_known_hosts');
    writeFileSync(empty, '');
    const r = await inject('--identity', sshd.clientKey, '--known-hosts', empty);
    expect(r.err).toContain('ERR_SSH_HOST_KEY');
    expect(r.err).toContain('--accept-new-host-key');
    expect(existsSync(under('etc/xepa'))).toBe(false);
  });

  it('reports a key the server does not accept as ERR_SSH_AUTH', async () => {
    const r = await inject('--identity', sshd.strangerKey, '--known-hosts', knownHosts);
    expect(r.err).toContain('ERR_SSH_AUTH');
    expect(r.code).toBe(1);
    expect(existsSync(under('etc/xepa'))).toBe(false);
  });

  it('installs the missing package, uploads bundle and config, starts the agent, and pins the fingerprint it read over SSH', async () => {
    const r = await inject('--identity', sshd.clientKey, '--known-hosts', knownHosts, '--json');
    expect(r.err).not.toContain('ERR_');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out) as { agentId: string; fingerprint: string; init: string; facts: { nodeVersion: string }; steps: { step: string; status: string; detail: string }[]; reachable: string };
    const status = Object.fromEntries(res.steps.map((s) => [s.step, s.status]));
    expect(status).toEqual({ system: 'unchanged', packages: 'changed', bundle: 'changed', config: 'changed', service: 'skipped', agent: 'changed', health: 'unchanged' });
    expect(res.steps.find((s) => s.step === 'packages')!.detail).toBe(`installed ${LEFT_FOR_THE_INJECTOR}`);
    expect(res.init).toBe('none'); // no init system runs in a chroot: the documented plain background start
    expect(res.facts.nodeVersion).toMatch(/^v18\./); // Debian 12's node runs the bundle

    // The pin is the agent's real certificate, and it is what the registry now holds.
    const certFp = new X509Certificate(readFileSync(under('run/xepa/tls-cert.pem'))).fingerprint256;
    expect(res.fingerprint).toBe(certFp);
    const [entry] = await readRegistry(join(home, 'agents.json'));
    expect(entry).toMatchObject({ id: res.agentId, address: `127.0.0.1:${agentPort}`, fingerprint: certFp });
    expect(entry!.lastSeen).not.toBeNull();
    expect(statSync(under('etc/xepa/agent.json')).mode & 0o777).toBe(0o600);

    // From here, over TCP: a pinned, authenticated control session using only the registry's fingerprint.
    const said: string[] = [];
    const session = await openSession(res.agentId, { 'key-dir': home }, (t) => said.push(t));
    try {
      expect(session.agentId).toBe(res.agentId);
      expect(said.join('\n')).toContain('recorded in');
    } finally {
      session.close();
    }
  });

  it('a second injection is a no-op: nothing written, the agent not restarted', async () => {
    const pid = agentPid();
    const mtimes = ['usr/local/lib/xepa/xepa-agent.mjs', 'etc/xepa/agent.json'].map((p) => statSync(under(p)).mtimeMs);
    const [before] = await readRegistry(join(home, 'agents.json'));
    const r = await inject('--identity', sshd.clientKey, '--known-hosts', knownHosts, '--json');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out) as { changed: boolean; fingerprint: string; steps: { step: string; status: string }[] };
    expect(res.steps.filter((s) => s.status === 'changed')).toEqual([]);
    expect(res.changed).toBe(false);
    expect(agentPid()).toBe(pid);
    expect(['usr/local/lib/xepa/xepa-agent.mjs', 'etc/xepa/agent.json'].map((p) => statSync(under(p)).mtimeMs)).toEqual(mtimes);
    const [after] = await readRegistry(join(home, 'agents.json'));
    expect(after!.fingerprint).toBe(before!.fingerprint);
    expect(after!.injectedAt).toBe(before!.injectedAt);
  });

  it('a new bundle is an in-place upgrade: uploaded, agent restarted, same identity and fingerprint', async () => {
    const pid = agentPid();
    const [before] = await readRegistry(join(home, 'agents.json'));
    const newer = join(work, 'xepa-agent.mjs');
    copyFileSync(bundle, newer);
    appendFileSync(newer, '\n// a newer build\n');
    const r = await inject('--identity', sshd.clientKey, '--known-hosts', knownHosts, '--bundle', newer, '--json');
    expect(r.err).not.toContain('ERR_');
    const res = JSON.parse(r.out) as { agentId: string; fingerprint: string; steps: { step: string; status: string; detail: string }[] };
    const status = Object.fromEntries(res.steps.map((s) => [s.step, s.status]));
    expect(status).toMatchObject({ packages: 'unchanged', bundle: 'changed', config: 'unchanged', agent: 'changed' });
    expect(res.steps.find((s) => s.step === 'agent')!.detail).toContain('restarted');
    expect(agentPid()).not.toBe(pid);
    expect(res.agentId).toBe(before!.id);
    expect(res.fingerprint).toBe(before!.fingerprint);
    expect(readFileSync(under('usr/local/lib/xepa/xepa-agent.mjs')).equals(readFileSync(newer))).toBe(true);
  });

  it('xepa agents shows the injected agent up', async () => {
    const r = await cli('agents', '--key-dir', home);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^xepa-[0-9a-f]{8} +127\\.0\\.0\\.1:${agentPort} +up \\(`, 'm'));
  });
});
