import { describe, expect, it } from 'vitest';
import { XepaError, type JobEvent } from '../../../agent/protocol/index.js';
import { driveJob, type AgentLink } from '../../../controller/plane/driver/index.js';
import type { Store } from '../../../controller/plane/store/index.js';
import { ENGINES, useEngine } from '../../support/store-engines.js';
import { waitFor } from '../../support/wait-for.js';

// driveJob against a link that plays the agent's side by hand: what it resumes from, what it stores, and how it
// stops when the lease goes or the agent cannot be followed.
const FP = 'ef'.repeat(32);
const ev = (seq: number, state: JobEvent['state'] = 'running'): JobEvent => ({ job: 'job-1', seq, ts: new Date().toISOString(), state, message: `step ${seq}` });

class HandLink implements AgentLink {
  onEvent: ((e: JobEvent) => void) | undefined;
  after: number | undefined;
  closed = false;
  private settle: { resolve(): void; reject(e: unknown): void } | undefined;
  followJob(_job: string, opts: { after?: number; onEvent: (e: JobEvent) => void }): Promise<void> {
    this.after = opts.after;
    this.onEvent = opts.onEvent;
    return new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }
  emit(...events: JobEvent[]): void {
    for (const e of events) this.onEvent!(e);
    if (events.some((e) => e.state === 'done')) this.settle!.resolve();
  }
  fail(err: unknown): void {
    this.settle!.reject(err);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.settle?.reject(new XepaError('ERR_CONNECT', 'connection closed by the client'));
  }
}

describe.each(ENGINES)('driveJob on %s', (engine) => {
  const fx = useEngine(engine);

  async function setup(): Promise<{ store: Store; jobId: string }> {
    const store = await fx.open();
    await store.putAgent({ id: 'a1', address: '127.0.0.1:1', fingerprint: FP });
    return { store, jobId: (await store.recordJob({ agentId: 'a1', agentJobId: 'job-1' })).id };
  }

  it('resumes from the last stored seq, stores what the agent sends once, and releases the lease at the end', async () => {
    const { store, jobId } = await setup();
    await store.acquireJobLease(jobId, 'old', 30_000);
    await store.appendEvents(jobId, 'old', [ev(1), ev(2)]);
    await store.releaseLease(jobId, 'old');
    const link = new HandLink();
    const drive = driveJob({ store, replica: 'r1', connect: async () => link }, jobId);
    await waitFor(() => link.onEvent, { what: 'the driver to follow' });
    expect(link.after).toBe(2);
    link.emit(ev(2), ev(3), ev(4, 'restoring'), ev(5, 'done'));
    expect(await drive).toEqual({ outcome: 'finished', lastSeq: 5 });
    expect((await store.listEvents(jobId)).map((e) => [e.seq, e.storedBy])).toEqual([[1, 'old'], [2, 'old'], [3, 'r1'], [4, 'r1'], [5, 'r1']]);
    expect(await store.getJob(jobId)).toMatchObject({ state: 'done', lease: null });
    expect(link.closed).toBe(true);
  });

  it('does not drive a job another replica holds', async () => {
    const { store, jobId } = await setup();
    await store.acquireJobLease(jobId, 'other', 30_000);
    let connected = false;
    expect(await driveJob({ store, replica: 'r1', connect: async () => ((connected = true), new HandLink()) }, jobId)).toEqual({ outcome: 'busy' });
    expect(connected).toBe(false);
  });

  it('stops following at once when its lease is taken over, storing nothing after', async () => {
    const { store, jobId } = await setup();
    const link = new HandLink();
    const drive = driveJob({ store, replica: 'r1', connect: async () => link, leaseTtlMs: 300, renewEveryMs: 100 }, jobId);
    await waitFor(() => link.onEvent, { what: 'the driver to follow' });
    link.emit(ev(1));
    await waitFor(async () => (await store.lastStoredSeq(jobId)) === 1, { what: 'event 1 stored' });
    // r1 is stalled past its lease (a paused process): the renewal interval cannot keep it, another replica takes it
    await store.releaseLease(jobId, 'r1');
    expect(await store.acquireJobLease(jobId, 'r2', 30_000)).not.toBeNull();
    const outcome = await drive;
    expect(outcome).toEqual({ outcome: 'lost', lastSeq: 1 });
    expect(link.closed).toBe(true);
    link.onEvent!(ev(2)); // a late event from the closing connection
    await new Promise((r) => setImmediate(r));
    expect(await store.lastStoredSeq(jobId)).toBe(1);
    expect((await store.getJob(jobId))!.lease).toMatchObject({ owner: 'r2' });
  });

  it('gives the job back (lease released) when the agent cannot be followed, with the error', async () => {
    const { store, jobId } = await setup();
    const link = new HandLink();
    const drive = driveJob({ store, replica: 'r1', connect: async () => link }, jobId);
    await waitFor(() => link.onEvent, { what: 'the driver to follow' });
    link.emit(ev(1));
    link.fail(new XepaError('ERR_CONNECT', 'gave up reconnecting'));
    const outcome = await drive;
    expect(outcome).toMatchObject({ outcome: 'failed', lastSeq: 1 });
    expect(outcome.outcome === 'failed' && outcome.error.code).toBe('ERR_CONNECT');
    expect((await store.getJob(jobId))!.lease).toBeNull();
    expect((await store.drivableJobs()).map((j) => j.id)).toEqual([jobId]);
    const refused = await driveJob({ store, replica: 'r1', connect: async () => Promise.reject(new XepaError('ERR_TLS_PIN', 'wrong certificate')) }, jobId);
    expect(refused.outcome === 'failed' && refused.error.code).toBe('ERR_TLS_PIN');
  });
});
