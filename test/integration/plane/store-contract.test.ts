import { describe, expect, it } from 'vitest';
import type { JobEvent, JobState } from '../../../agent/protocol/index.js';
import type { Store } from '../../../controller/plane/store/index.js';
import { codeOfAsync } from '../../support/error-code.js';
import { ENGINES, useEngine } from '../../support/store-engines.js';

// The store's contract: the same tests on SQLite and PostgreSQL.
const FP = 'ab'.repeat(32);
const FP_CANON = Array.from({ length: 32 }, () => 'AB').join(':');

const ev = (seq: number, state: JobState = 'running', extra: Partial<JobEvent> = {}): JobEvent => ({
  job: 'job-1', seq, ts: new Date(1_700_000_000_000 + seq).toISOString(), state, message: `step ${seq}`, ...extra,
});

async function jobOf(store: Store, agentJobId = 'job-1'): Promise<string> {
  await store.putAgent({ id: 'a1', address: '10.0.0.1:7443', fingerprint: FP });
  return (await store.recordJob({ agentId: 'a1', agentJobId, request: { iso: 'catalog:debian@12' } })).id;
}

describe.each(ENGINES)('the store on %s', (engine) => {
  const fx = useEngine(engine);

  describe('agents (the registry)', () => {
    it('adds an agent with a canonical fingerprint and defaults, and changes only the fields given', async () => {
      const store = await fx.open();
      const a = await store.putAgent({ id: 'a1', address: '10.0.0.1:7443', fingerprint: FP, ssh: 'ssh://root@10.0.0.1:22' });
      expect(a).toMatchObject({ id: 'a1', fingerprint: FP_CANON, labels: {}, enrolment: 'enrolled', version: null, ssh: 'ssh://root@10.0.0.1:22', lastSeenAt: null });
      expect(a.createdAt).toBe(a.updatedAt);
      const b = await store.putAgent({ id: 'a1', labels: { rack: 'r7', role: 'pve' }, version: '0.1.0', lastSeenAt: 1234 });
      expect(b).toMatchObject({ address: '10.0.0.1:7443', fingerprint: FP_CANON, ssh: 'ssh://root@10.0.0.1:22', labels: { rack: 'r7', role: 'pve' }, version: '0.1.0', lastSeenAt: 1234 });
      expect(b.createdAt).toBe(a.createdAt);
      const c = await store.putAgent({ id: 'a1', ssh: null, enrolment: 'revoked' });
      expect(c).toMatchObject({ ssh: null, enrolment: 'revoked', version: '0.1.0' });
      expect(await store.getAgent('a1')).toEqual(c);
      expect(await store.getAgent('nope')).toBeNull();
    });

    it('refuses a new agent without address or fingerprint, and a fingerprint that is not SHA-256', async () => {
      const store = await fx.open();
      expect(await codeOfAsync(store.putAgent({ id: 'x', address: 'h:1' }))).toBe('ERR_BAD_REQUEST');
      expect(await codeOfAsync(store.putAgent({ id: 'x', address: 'h:1', fingerprint: 'abc' }))).toBe('ERR_BAD_REQUEST');
      expect(await store.listAgents()).toEqual([]);
    });

    it('lists agents by id and removes one without jobs, refusing one with a history', async () => {
      const store = await fx.open();
      for (const id of ['c', 'a', 'b']) await store.putAgent({ id, address: `${id}:7443`, fingerprint: FP });
      expect((await store.listAgents()).map((a) => a.id)).toEqual(['a', 'b', 'c']);
      expect(await store.removeAgent('b')).toBe(true);
      expect(await store.removeAgent('b')).toBe(false);
      await store.recordJob({ agentId: 'a', agentJobId: 'j' });
      expect(await codeOfAsync(store.removeAgent('a'))).toBe('ERR_BAD_REQUEST');
      expect((await store.listAgents()).map((a) => a.id)).toEqual(['a', 'c']);
    });
  });

  describe('jobs and their events', () => {
    it('records a job once per (agent, agent job id) and refuses an unknown agent', async () => {
      const store = await fx.open();
      const id = await jobOf(store);
      const again = await store.recordJob({ agentId: 'a1', agentJobId: 'job-1', request: { other: true } });
      expect(again).toMatchObject({ id, request: { iso: 'catalog:debian@12' }, state: 'planned', lastSeq: 0, finishedAt: null, lease: null });
      expect(await store.findJob('a1', 'job-1')).toEqual(again);
      expect(await codeOfAsync(store.recordJob({ agentId: 'ghost', agentJobId: 'j' }))).toBe('ERR_NOT_FOUND');
    });

    it('stores events under the lease, each once however often it is replayed, in order', async () => {
      const store = await fx.open();
      const id = await jobOf(store);
      expect(await store.acquireJobLease(id, 'r1', 30_000)).not.toBeNull();
      expect(await store.appendEvents(id, 'r1', [ev(1, 'fetching', { progress: 0.5 }), ev(2, 'verifying')])).toEqual({ stored: 2, lastSeq: 2 });
      expect(await store.appendEvents(id, 'r1', [ev(1, 'fetching'), ev(2, 'verifying'), ev(3, 'running', { detail: { vnc: true } })])).toEqual({ stored: 1, lastSeq: 3 });
      expect(await store.appendEvents(id, 'r1', [ev(3), ev(2)])).toEqual({ stored: 0, lastSeq: 3 });
      const events = await store.listEvents(id);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(events[0]).toMatchObject({ job: 'job-1', state: 'fetching', progress: 0.5, message: 'step 1', storedBy: 'r1' });
      expect(events[0]).not.toHaveProperty('detail');
      expect(events[2]).toMatchObject({ detail: { vnc: true } });
      expect(events[2]).not.toHaveProperty('progress');
      expect((await store.listEvents(id, { after: 1, limit: 1 })).map((e) => e.seq)).toEqual([2]);
      expect(await store.lastStoredSeq(id)).toBe(3);
      expect(await store.getJob(id)).toMatchObject({ state: 'running', lastSeq: 3, finishedAt: null });
    });

    it('marks the job finished at its terminal event, which takes it out of the active jobs and the leases', async () => {
      const store = await fx.open();
      const id = await jobOf(store);
      const other = (await store.recordJob({ agentId: 'a1', agentJobId: 'job-2' })).id;
      await store.acquireJobLease(id, 'r1', 30_000);
      await store.appendEvents(id, 'r1', [ev(1, 'running'), ev(2, 'restoring'), ev(3, 'done')]);
      const job = await store.getJob(id);
      expect(job).toMatchObject({ state: 'done', lastSeq: 3 });
      expect(job!.finishedAt).not.toBeNull();
      expect((await store.listJobs({ active: true })).map((j) => j.id)).toEqual([other]);
      expect((await store.listJobs({ active: false })).map((j) => j.id)).toEqual([id]);
      expect((await store.listJobs({ agentId: 'a1' })).length).toBe(2);
      await store.releaseLease(id, 'r1');
      expect(await store.acquireJobLease(id, 'r2', 30_000)).toBeNull();
      expect((await store.drivableJobs()).map((j) => j.id)).toEqual([other]);
    });

    it('stores nothing for a replica without the lease, and refuses events of another agent job', async () => {
      const store = await fx.open();
      const id = await jobOf(store);
      expect(await codeOfAsync(store.appendEvents(id, 'r1', [ev(1)]))).toBe('ERR_LEASE_LOST');
      await store.acquireJobLease(id, 'r1', 30_000);
      expect(await codeOfAsync(store.appendEvents(id, 'r2', [ev(1)]))).toBe('ERR_LEASE_LOST');
      expect(await codeOfAsync(store.appendEvents(id, 'r1', [ev(1), { ...ev(2), job: 'job-9' }]))).toBe('ERR_BAD_REQUEST');
      expect(await codeOfAsync(store.appendEvents('no-such-job', 'r1', [ev(1)]))).toBe('ERR_NOT_FOUND');
      expect(await store.listEvents(id)).toEqual([]);
      expect(await store.lastStoredSeq(id)).toBe(0);
    });

    it('stores a batch larger than one INSERT in one go', async () => {
      const store = await fx.open();
      const id = await jobOf(store);
      await store.acquireJobLease(id, 'r1', 30_000);
      const batch = Array.from({ length: 1001 }, (_, i) => ev(i + 1));
      expect(await store.appendEvents(id, 'r1', batch)).toEqual({ stored: 1001, lastSeq: 1001 });
      expect((await store.listEvents(id)).length).toBe(1001);
    });
  });

  describe('finish reports, screenshots, audit log', () => {
    it('keeps one finish report per job, the last one written', async () => {
      const store = await fx.open();
      const id = await jobOf(store);
      expect(await store.getFinishReport(id)).toBeNull();
      await store.putFinishReport(id, { changes: ['a'] });
      await store.putFinishReport(id, { changes: ['a', 'b'], reboot: true });
      expect((await store.getFinishReport(id))!.report).toEqual({ changes: ['a', 'b'], reboot: true });
      expect(await codeOfAsync(store.putFinishReport('nope', {}))).toBe('ERR_NOT_FOUND');
    });

    it('records each screenshot of a job once by digest, listed in time order', async () => {
      const store = await fx.open();
      const id = await jobOf(store);
      const shot = { jobId: id, seq: 4, takenAt: 2000, mime: 'image/png', bytes: 1234, sha256: 'b'.repeat(64), location: 'shots/b.png' };
      const first = await store.addScreenshot({ ...shot, sha256: 'a'.repeat(64), takenAt: 1000, seq: null, location: 'shots/a.png' });
      const second = await store.addScreenshot(shot);
      expect(await store.addScreenshot(shot)).toEqual(second);
      expect(await store.listScreenshots(id)).toEqual([first, second]);
      expect(first).toMatchObject({ seq: null, takenAt: 1000 });
    });

    it('appends audit entries stamped by the database and lists them newest first, by target or actor', async () => {
      const store = await fx.open();
      const before = Date.now() - 5000;
      const e1 = await store.audit({ actor: 'alice', action: 'install', target: 'agent:a1', detail: { iso: 'debian' } });
      await store.audit({ actor: 'bob', action: 'console.open', target: 'job:j1' });
      await store.audit({ actor: 'alice', action: 'cancel', target: 'job:j1' });
      expect(e1).toMatchObject({ actor: 'alice', action: 'install', target: 'agent:a1', detail: { iso: 'debian' } });
      expect(e1.at).toBeGreaterThan(before);
      expect((await store.listAudit()).map((e) => e.action)).toEqual(['cancel', 'console.open', 'install']);
      expect((await store.listAudit({ target: 'job:j1' })).map((e) => e.actor)).toEqual(['alice', 'bob']);
      expect((await store.listAudit({ actor: 'alice', limit: 1 })).map((e) => e.action)).toEqual(['cancel']);
      expect((await store.listAudit({ actor: 'bob' }))[0]!.detail).toBeNull();
    });
  });
});
