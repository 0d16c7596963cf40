import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { XepaError, isXepaError } from '../../../agent/protocol/index.js';
import { agentsCommand } from '../../../controller/cli/commands/agents.js';
import { resolvePin } from '../../../controller/cli/session.js';
import { findRegisteredAgent, forgetAgent, probeAgents, readRegistry, recordAgent, type RegisteredAgent } from '../../../controller/registry/index.js';

const dir = mkdtempSync(join(tmpdir(), 'xepa-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FP = 'ab'.repeat(32);
const FP_CANON = ('AB:'.repeat(32)).slice(0, -1);

function sink(): { w: Writable; text: () => string } {
  let s = '';
  return { w: new Writable({ write: (c, _e, cb) => ((s += c.toString()), cb()) }), text: () => s };
}

describe('the agent registry', () => {
  it('records agents with canonical fingerprints in a 0600 file, updating by id', async () => {
    const file = join(dir, 'a', 'agents.json');
    await recordAgent(file, { id: 'n1', address: '192.0.2.1:7443', fingerprint: FP });
    await recordAgent(file, { id: 'n1', version: '0.2.0' });
    const [n1] = await readRegistry(file);
    expect(n1).toMatchObject({ id: 'n1', address: '192.0.2.1:7443', fingerprint: FP_CANON, version: '0.2.0', lastSeen: null });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'a'))).toEqual(['agents.json']); // no temporary file left behind
  });

  it('treats a missing file as empty and a damaged one as ERR_CONFIG', async () => {
    expect(await readRegistry(join(dir, 'none.json'))).toEqual([]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version":1,"agents":[{"id":"x"}]}');
    await expect(readRegistry(bad)).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });

  it('forgets an agent by id', async () => {
    const file = join(dir, 'f.json');
    await recordAgent(file, { id: 'gone', address: 'h:1', fingerprint: FP });
    expect(await forgetAgent(file, 'gone')).toBe(true);
    expect(await forgetAgent(file, 'gone')).toBe(false);
    expect(JSON.parse(readFileSync(file, 'utf8')).agents).toEqual([]);
  });

  it('finds an agent by id or by address in any spelling', () => {
    const agents = [{ id: 'n1', address: 'Rescue1.example:7443', fingerprint: FP_CANON } as RegisteredAgent];
    expect(findRegisteredAgent(agents, 'n1')?.id).toBe('n1');
    expect(findRegisteredAgent(agents, 'rescue1.example')?.id).toBe('n1');
    expect(findRegisteredAgent(agents, 'wss://rescue1.example:7443')?.id).toBe('n1');
    expect(findRegisteredAgent(agents, 'rescue1.example:7444')).toBeUndefined();
  });
});

describe('pinning from the registry', () => {
  it('uses the recorded fingerprint when none is given, and says so', async () => {
    const file = join(dir, 'pin.json');
    await recordAgent(file, { id: 'n2', address: '198.51.100.2:7443', fingerprint: FP });
    const said: string[] = [];
    const byId = await resolvePin('n2', undefined, file, (t) => said.push(t), {});
    expect(byId).toEqual({ url: 'wss://198.51.100.2:7443', fingerprint: FP_CANON });
    expect(said[0]).toContain('recorded in');
    expect((await resolvePin('198.51.100.2', undefined, file, undefined, {})).fingerprint).toBe(FP_CANON);
  });

  it('prefers --fingerprint over the registry', async () => {
    const file = join(dir, 'pin.json');
    const r = await resolvePin('n2', 'cd'.repeat(32), file, undefined, {});
    expect(r.fingerprint).toBe('cd'.repeat(32));
  });

  it('does not let a damaged registry block an explicit --fingerprint, but reports it when it is the only source', async () => {
    const bad = join(dir, 'damaged.json');
    writeFileSync(bad, 'not json');
    expect((await resolvePin('203.0.113.9', FP, bad, undefined, {})).url).toBe('wss://203.0.113.9:7443');
    await expect(resolvePin('203.0.113.9', undefined, bad, undefined, {})).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });

  it('still demands a fingerprint for an unknown agent (ERR_BAD_REQUEST)', async () => {
    await expect(resolvePin('203.0.113.9', undefined, join(dir, 'pin.json'), undefined, {})).rejects.toMatchObject({ code: 'ERR_BAD_REQUEST' });
  });
});

describe('xepa agents', () => {
  const agents: RegisteredAgent[] = [
    { id: 'up1', address: 'a:7443', fingerprint: FP_CANON, lastSeen: null, injectedAt: null, version: null },
    { id: 'down1', address: 'b:7443', fingerprint: FP_CANON, lastSeen: null, injectedAt: null, version: null },
    { id: 'fake1', address: 'c:7443', fingerprint: FP_CANON, lastSeen: null, injectedAt: null, version: null },
  ];
  const identify = async (o: { url: string }) => {
    if (o.url === 'wss://a:7443') return { agentId: 'up1', version: '0.3.0', protocol: 1, fingerprint: FP_CANON };
    if (o.url === 'wss://b:7443') throw new XepaError('ERR_CONNECT', 'connection refused');
    throw new XepaError('ERR_TLS_PIN', 'presented another certificate');
  };

  it('classifies each agent: up, unreachable, wrong-certificate', async () => {
    const states = await probeAgents(agents, 1000, { identify });
    expect(states.map((s) => s.state)).toEqual(['up', 'unreachable', 'wrong-certificate']);
  });

  it('lists them with their state and records when the live ones were seen', async () => {
    const home = join(dir, 'home');
    for (const a of agents) await recordAgent(join(home, 'agents.json'), a);
    const out = sink();
    const err = sink();
    expect(await agentsCommand(['--key-dir', home], { out: out.w, err: err.w }, { identify })).toBe(0);
    expect(out.text()).toMatch(/^up1 +a:7443 +up \(0\.3\.0\)/m);
    expect(out.text()).toMatch(/^down1 +b:7443 +unreachable/m);
    expect(out.text()).toMatch(/^fake1 +c:7443 +wrong-certificate/m);
    expect(err.text()).toContain('fake1: presented another certificate');
    const saved = await readRegistry(join(home, 'agents.json'));
    expect(saved.find((a) => a.id === 'up1')!.lastSeen).not.toBeNull();
    expect(saved.find((a) => a.id === 'down1')!.lastSeen).toBeNull();
  });

  it('forgetting an unknown agent is ERR_NOT_FOUND', async () => {
    const e = await agentsCommand(['forget', 'nope', '--key-dir', join(dir, 'home')], { out: sink().w, err: sink().w }).catch((x: unknown) => x);
    expect(isXepaError(e) && e.code).toBe('ERR_NOT_FOUND');
  });
});
