import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../controller/cli/main.js';
import { createLoopDisk, type LoopDisk } from '../../../controller/demo/loop-disk.js';
import { connectAgentLink, createWebConsole, webAssetsFrom, type AgentPort, type WebConsole } from '../../../controller/web/index.js';
import { captureOutput } from '../../support/capture.js';
import { httpRequest, serveHandlers } from '../../unit/web/fake-agent.js';
import { agentBench } from './helpers/agent-bench.js';
import { fakeIso, watchJob, type JobWatch } from './helpers/agent-harness.js';
import { startSecretIsoServer, type SecretIsoServer } from './helpers/secret-iso-server.js';

// Issue 11, item 3: an ISO URL with a password and signed query parameters never reaches any outlet — the job's
// events over the wire, job.get/job.list, the files the agent writes (event log, job meta, resume sidecar), the
// agent's log, any process's argv, the CLI's output, a view-only web session — while the fetch itself still
// uses the full URL. The real agent bundle, a real loopback server, a real QEMU (TCG) for the argv check.
const tag = randomBytes(6).toString('hex');
const S = { user: `usr${tag}`, pass: `pw${tag}`, sig: `SIG${tag}`, cred: `CRED${tag}`, frag: `FRAG${tag}` };
const SECRETS = Object.values(S);
const leaks = (text: string): string[] => SECRETS.filter((s) => text.includes(s));

const bench = agentBench('xepa-secret-urls-');
const good = fakeIso(2 << 20);
const bad = fakeIso(1 << 20); // served where `wanted`'s digest is expected: ERR_FETCH_DIGEST
const wanted = fakeIso(1024); // (not `good`: its verified copy is cached by then)
let disk: LoopDisk;
let server: SecretIsoServer;
const url = (path: string): string =>
  `http://${S.user}:${S.pass}@127.0.0.1:${server.port}${path}?X-Amz-Signature=${S.sig}&X-Amz-Credential=${S.cred}#${S.frag}`;
const shown = (path: string): string => `http://***@127.0.0.1:${server.port}${path}?X-Amz-Signature=***&X-Amz-Credential=***#***`;
const jobs: { ok?: { id: string; w: JobWatch }; failed?: { id: string; w: JobWatch } } = {};
let sidecar: { text: string; mode: number; partMode: number } | undefined;
let argvScan: { qemuSeen: boolean; hits: string[] } | undefined;

// Every file under `dir`, as text (binary files are scanned too: a secret would show as its bytes).
const filesUnder = (dir: string): { path: string; text: string }[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .map((path) => ({ path, text: readFileSync(path, 'latin1') }));

// The argv of every process on the machine: nothing may carry the URL (no curl, wget or QEMU given it).
const allArgv = (): string[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        return [readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ')];
      } catch {
        return []; // gone meanwhile
      }
    });

beforeAll(async () => {
  server = bench.hold(await startSecretIsoServer({ '/a/os.iso': good.body, '/b/os.iso': bad.body }, '/a/os.iso'));
  disk = bench.hold(await createLoopDisk(join(bench.work, 'disk.img'), 16));

  const ok = await bench.client.call('install', { iso: { url: url('/a/os.iso'), sha256: good.sha256 }, disks: [{ path: disk.device }], vm: { memoryMiB: 256, bootOrder: 'disk-first' } }); // a random ISO: the disk boots first, the CD is never booted
  jobs.ok = { id: ok.id, w: watchJob(bench.client, ok.id) };
  // The sidecar is written before the first byte: look at it while the download waits half-way.
  const ended = jobs.ok.w.done.then(() => {
    throw new Error(`job ended before the download: ${jobs.ok!.w.events.map((e) => `${e.state}: ${e.message}`).join(' | ')}`);
  });
  await Promise.race([server.halfSent, ended]);
  const state = join(bench.h.stateDir, 'isos', `${good.sha256}.iso.part.json`);
  sidecar = { text: readFileSync(state, 'utf8'), mode: statSync(state).mode & 0o777, partMode: statSync(join(bench.h.stateDir, 'isos', `${good.sha256}.iso.part`)).mode & 0o777 };
  server.releaseCut();
  await jobs.ok.w.until((e) => e.state === 'running', 'the VM running');
  const argv = allArgv();
  argvScan = { qemuSeen: argv.some((a) => a.includes('qemu-system') && a.includes(ok.id)), hits: argv.filter((a) => leaks(a).length > 0) };
  await bench.client.call('job.cancel', { job: ok.id });
  await jobs.ok.w.done;

  const failed = await bench.client.call('install', { iso: { url: url('/b/os.iso'), sha256: wanted.sha256 }, disks: [{ path: disk.device }], vm: { memoryMiB: 256 } });
  jobs.failed = { id: failed.id, w: watchJob(bench.client, failed.id) };
  await jobs.failed.w.done;
}, 240_000);


describe('a URL with a password and a signature', () => {
  it('is fetched as given: the server saw the query and the credentials, and the download resumed after a cut', () => {
    const a = server.requests.filter((r) => r.path.startsWith('/a/os.iso'));
    expect(a.length).toBeGreaterThanOrEqual(2);
    expect(a[0]!.path).toBe(`/a/os.iso?X-Amz-Signature=${S.sig}&X-Amz-Credential=${S.cred}`);
    expect(a[0]!.authorization).toBe(`Basic ${Buffer.from(`${S.user}:${S.pass}`).toString('base64')}`);
    expect(a.at(-1)!.range).toMatch(/^bytes=\d+-$/);
  });

  it('is shown redacted in the job events over the wire, and the failed job says nothing more', async () => {
    const all = [...jobs.ok!.w.events, ...jobs.failed!.w.events];
    expect(leaks(JSON.stringify(all))).toEqual([]);
    expect(jobs.ok!.w.events.find((e) => e.state === 'fetching')?.message).toBe(`fetching ${shown('/a/os.iso')}`);
    expect(jobs.ok!.w.states()).toContain('running');
    const end = await bench.client.call('job.get', { job: jobs.failed!.id });
    expect(end.error?.code).toBe('ERR_FETCH_DIGEST');
    expect(end.error?.message).toContain(shown('/b/os.iso'));
    expect(JSON.stringify(end)).not.toContain(bad.sha256); // the digest of what the URL serves is not told
    expect(leaks(JSON.stringify([end, await bench.client.call('job.get', { job: jobs.ok!.id }), await bench.client.call('job.list', {})]))).toEqual([]);
  });

  it('never reaches a file the agent writes; the resume sidecar holds it redacted, mode 0600', () => {
    expect(sidecar?.mode).toBe(0o600);
    expect(sidecar?.partMode).toBe(0o600);
    expect(leaks(sidecar!.text)).toEqual([]);
    expect(JSON.parse(sidecar!.text)).toMatchObject({ source: shown('/a/os.iso'), urlSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const files = filesUnder(bench.h.stateDir);
    expect(files.map((f) => f.path).some((p) => p.endsWith('events.jsonl'))).toBe(true);
    expect(files.filter((f) => leaks(f.text).length > 0).map((f) => f.path)).toEqual([]);
    expect(files.find((f) => f.path.includes(jobs.ok!.id) && f.path.endsWith('events.jsonl'))?.text).toContain(shown('/a/os.iso'));
  });

  it("never reaches the agent's log, which shows it redacted", () => {
    const log = bench.h.agent.logLines.join('\n');
    expect(leaks(log)).toEqual([]);
    expect(log).toContain(shown('/a/os.iso'));
  });

  it("never appears in any process's argv (QEMU included, while it ran the job)", () => {
    expect(argvScan?.qemuSeen).toBe(true); // the scan ran while the job's QEMU was alive
    expect(argvScan?.hits).toEqual([]);
  });

  it("never reaches the CLI's output (jobs, a job, its events, --json)", async () => {
    const cli = async (args: string[]): Promise<string> => {
      const o = captureOutput();
      const code = await runCli([...args, '--fingerprint', bench.h.agent.fingerprint, '--key-dir', bench.h.keyDir], o);
      expect(code === 0 || code === 1, o.stderr()).toBe(true); // `--follow` of a failed job exits 1
      return o.stdout() + o.stderr();
    };
    const outputs = [
      await cli(['jobs', bench.h.agent.url]),
      await cli(['jobs', bench.h.agent.url, '--json']),
      await cli(['jobs', bench.h.agent.url, jobs.failed!.id, '--json']),
      await cli(['jobs', bench.h.agent.url, jobs.ok!.id, '--follow']),
      await cli(['jobs', bench.h.agent.url, jobs.failed!.id, '--follow']),
    ].join('\n');
    expect(leaks(outputs)).toEqual([]);
    expect(outputs).toContain(shown('/a/os.iso'));
  });

  it("never reaches a view-only web console session (its job list and the job's event stream)", async () => {
    let web: WebConsole | undefined;
    const { server: http, port } = await serveHandlers({ request: (q, s) => web!.handleRequest(q, s), upgrade: (q, s, b) => web!.handleUpgrade(q, s, b) });
    const agent: AgentPort = await connectAgentLink({ url: bench.h.agent.url, fingerprint: bench.h.agent.fingerprint, privateKey: bench.h.key.privateKey });
    const origin = `http://127.0.0.1:${port}`;
    web = createWebConsole({ agent, publicUrl: origin, secure: false, signingKey: bench.h.key, assets: webAssetsFrom({ 'console.js': '', 'console.css': '', 'login.js': '' }) });
    try {
      const t = new URL(web.loginLink('view')).searchParams.get('t')!;
      const login = await httpRequest(port, 'POST', '/login', { headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `t=${t}` });
      expect(login.status).toBe(303);
      const Cookie = /^([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
      const seen = [
        await httpRequest(port, 'GET', '/api/jobs', { headers: { Cookie } }),
        await httpRequest(port, 'GET', `/api/events?job=${jobs.ok!.id}`, { headers: { Cookie } }),
        await httpRequest(port, 'GET', `/api/events?job=${jobs.failed!.id}`, { headers: { Cookie } }),
      ];
      expect(seen.map((a) => a.status)).toEqual([200, 200, 200]);
      const text = seen.map((a) => a.body).join('\n');
      expect(text).toContain(shown('/a/os.iso'));
      expect(leaks(text)).toEqual([]);
    } finally {
      web.close();
      agent.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });
});
