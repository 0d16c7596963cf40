import { describe, expect, it } from 'vitest';
import { isXepaError, type JobEvent } from '../../../agent/protocol/index.js';
import type { Store, StoreConfig } from '../../../controller/plane/store/index.js';
import { codeOfAsync } from '../../support/error-code.js';
import { ENGINES, useEngine } from '../../support/store-engines.js';
import { waitFor } from '../../support/wait-for.js';

// Leases: one replica drives a job at a time. Each replica is its own store connection (its own pool on
// PostgreSQL), as separate `xepa serve` processes would be.
const FP = 'cd'.repeat(32);
const ev = (seq: number): JobEvent => ({ job: 'job-1', seq, ts: new Date().toISOString(), state: 'running', message: `step ${seq}` });

describe.each(ENGINES)('job leases on %s', (engine) => {
  const fx = useEngine(engine);

  async function replicas(n: number): Promise<{ config: StoreConfig; stores: Store[]; job: (agentJobId?: string) => Promise<string> }> {
    const config = await fx.fresh();
    const stores: Store[] = [];
    for (let i = 0; i < n; i++) stores.push(await fx.open(config));
    await stores[0]!.putAgent({ id: 'a1', address: 'h:7443', fingerprint: FP });
    for (const s of stores) await s.listAgents(); // every pool holds a live connection before any race
    let k = 0;
    return { config, stores, job: async (agentJobId = `job-${++k}`) => (await stores[0]!.recordJob({ agentId: 'a1', agentJobId })).id };
  }

  it('lets exactly one of four replicas racing for a job win, every time (100 rounds)', async () => {
    const { stores, job } = await replicas(4);
    const wins = [0, 0, 0, 0];
    for (let round = 0; round < 100; round++) {
      const id = await job();
      const results = await Promise.all(stores.map((s, i) => s.acquireJobLease(id, `r${i}`, 30_000)));
      const winners = results.flatMap((r, i) => (r ? [i] : []));
      expect(winners.length, `round ${round}: ${JSON.stringify(results)}`).toBe(1);
      const w = winners[0]!;
      wins[w]!++;
      expect((await stores[0]!.getJob(id))!.lease).toEqual(results[w]);
      expect(results[w]).toMatchObject({ owner: `r${w}`, epoch: 1 });
    }
    expect(wins.reduce((a, b) => a + b)).toBe(100);
  });

  it('re-acquiring and renewing keep the epoch; release lets another replica in with the next epoch', async () => {
    const { stores: [r1, r2], job } = await replicas(2);
    const id = await job();
    const first = (await r1!.acquireJobLease(id, 'r1', 30_000))!;
    expect(await r2!.acquireJobLease(id, 'r2', 30_000)).toBeNull();
    const again = (await r1!.acquireJobLease(id, 'r1', 30_000))!;
    expect(again.epoch).toBe(first.epoch);
    const renewed = (await r1!.renewLease(id, 'r1', 60_000))!;
    expect(renewed.epoch).toBe(first.epoch);
    expect(renewed.expiresAt).toBeGreaterThan(first.expiresAt);
    expect(await r2!.releaseLease(id, 'r2')).toBe(false);
    expect(await r2!.renewLease(id, 'r2', 30_000)).toBeNull();
    expect(await r1!.releaseLease(id, 'r1')).toBe(true);
    expect((await r1!.getJob(id))!.lease).toBeNull();
    expect(await r2!.acquireJobLease(id, 'r2', 30_000)).toMatchObject({ owner: 'r2', epoch: first.epoch + 1 });
  });

  it('hands an expired lease to another replica, after which the old owner can neither renew nor store', async () => {
    const { stores: [r1, r2], job } = await replicas(2);
    const id = await job();
    const ttl = 400;
    const old = (await r1!.acquireJobLease(id, 'r1', ttl))!;
    await r1!.appendEvents(id, 'r1', [ev(1), ev(2), ev(3), ev(4), ev(5)]);
    expect(await r2!.acquireJobLease(id, 'r2', 30_000)).toBeNull();
    expect(await r2!.drivableJobs()).toEqual([]);
    await waitFor(async () => (await r2!.drivableJobs()).length === 1, { what: 'the lease to expire', timeoutMs: 10_000 });
    const taken = await waitFor(() => r2!.acquireJobLease(id, 'r2', 30_000), { what: 'r2 taking the job over', timeoutMs: 10_000 });
    // by the database's clock, the takeover came after the old lease ran out
    expect(taken.expiresAt - 30_000).toBeGreaterThanOrEqual(old.expiresAt);
    expect(taken).toMatchObject({ owner: 'r2', epoch: old.epoch + 1 });
    expect(await r1!.renewLease(id, 'r1', ttl)).toBeNull();
    expect(await r1!.acquireJobLease(id, 'r1', ttl)).toBeNull();
    expect(await codeOfAsync(r1!.appendEvents(id, 'r1', [ev(6)]))).toBe('ERR_LEASE_LOST');
    // the new owner resumes after the last stored seq; what it replays from before is skipped
    const resumeAfter = await r2!.lastStoredSeq(id);
    expect(resumeAfter).toBe(5);
    expect(await r2!.appendEvents(id, 'r2', [ev(4), ev(5), ev(6), ev(7)])).toEqual({ stored: 2, lastSeq: 7 });
    const events = await r1!.listEvents(id);
    expect(events.map((e) => [e.seq, e.storedBy])).toEqual([[1, 'r1'], [2, 'r1'], [3, 'r1'], [4, 'r1'], [5, 'r1'], [6, 'r2'], [7, 'r2']]);
  });

  it('loses a lease that expired even when nobody took it: renewal fails, acquiring again works', async () => {
    const { stores: [r1], job } = await replicas(1);
    const id = await job();
    const first = (await r1!.acquireJobLease(id, 'r1', 200))!;
    await waitFor(async () => (await r1!.drivableJobs()).length === 1, { what: 'the lease to expire', timeoutMs: 10_000 });
    expect(await r1!.renewLease(id, 'r1', 200)).toBeNull();
    expect(await codeOfAsync(r1!.appendEvents(id, 'r1', [ev(1)]))).toBe('ERR_LEASE_LOST');
    expect(await r1!.acquireJobLease(id, 'r1', 30_000)).toMatchObject({ owner: 'r1', epoch: first.epoch });
    expect(await r1!.appendEvents(id, 'r1', [ev(1)])).toEqual({ stored: 1, lastSeq: 1 });
  });

  it('stores every event once when two replicas keep fighting over a job with short leases', async () => {
    const { stores, job } = await replicas(2);
    const id = await job();
    const ttl = 60;
    let next = 1;
    const log: { replica: string; stored: number[] }[] = [];
    const worker = async (s: Store, name: string): Promise<void> => {
      while (next <= 300) {
        if (!(await s.acquireJobLease(id, name, ttl))) continue;
        // a replica resumes from the store, re-sending up to 3 events already stored (as a reconnect replays)
        const from = Math.max(1, (await s.lastStoredSeq(id)) - 2);
        const batch = Array.from({ length: 6 }, (_, i) => ev(from + i));
        try {
          const r = await s.appendEvents(id, name, batch);
          next = Math.max(next, r.lastSeq + 1);
          log.push({ replica: name, stored: [r.stored] });
        } catch (err) {
          if (!isXepaError(err, 'ERR_LEASE_LOST')) throw err; // lost between acquire and append: the other took it
        }
        if (Math.random() < 0.5) await s.releaseLease(id, name);
      }
    };
    await Promise.all(stores.map((s, i) => worker(s, `r${i}`)));
    const events = await stores[0]!.listEvents(id);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(seqs.length).toBeGreaterThanOrEqual(300);
    expect(new Set(events.map((e) => e.storedBy)).size).toBe(2);
    expect(log.reduce((a, l) => a + l.stored[0]!, 0)).toBe(seqs.length);
  });
});
