import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { join } from 'node:path';
import type { InstallRequestParsed, JobEvent, JobSummary, Plan } from '../protocol/index.js';
import { XepaError, isTerminal } from '../protocol/index.js';
import { InstallJob, type JobEnv } from './install-job.js';
import { appendJobEvent, loadPastJobs, writeJobMeta } from './job-history.js';
import { JobLog } from './job-log.js';
import type { JobRecord } from './job-record.js';

// Holds the agent's jobs: creates them in their own directory, finds them, follows their events.
export class JobManager {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly busy = new Map<string, string>(); // device path or `pci:<bdf>` -> job id, for running jobs

  constructor(
    private readonly jobsDir: string,
    private readonly env: JobEnv,
    private readonly newId: () => string = () => `job-${randomBytes(4).toString('hex')}`,
  ) {}

  // Creates and starts an install for an already computed plan; refuses devices another running job holds.
  create(request: InstallRequestParsed, plan: Plan): InstallJob {
    for (const d of plan.disks) {
      const owner = this.busy.get(d.path);
      if (owner) throw new XepaError('ERR_DEVICE_BUSY', `${d.path} is in use by job ${owner}`, { details: { path: d.path, job: owner } });
    }
    const bdfs = (plan.passthrough?.bind ?? []).map((b) => b.bdf);
    for (const bdf of bdfs) {
      const owner = this.busy.get(`pci:${bdf}`);
      if (owner) throw new XepaError('ERR_DEVICE_BUSY', `${bdf} is bound to vfio-pci for job ${owner}`, { details: { bdf, job: owner } });
    }
    const keys = [...plan.disks.map((d) => d.path), ...bdfs.map((b) => `pci:${b}`)];
    const id = this.newId();
    const dir = join(this.jobsDir, id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeJobMeta(dir, { id, createdAt: this.env.now().toISOString(), plan });
    const events = new JobLog(id, (e) => appendJobEvent(dir, e), this.env.now);
    const job = new InstallJob(id, dir, request, plan, events, this.env);
    this.jobs.set(id, job);
    for (const k of keys) this.busy.set(k, id);
    void job.done.finally(() => {
      for (const k of keys) if (this.busy.get(k) === id) this.busy.delete(k);
    });
    job.start();
    return job;
  }

  // Takes in the jobs of earlier runs of the agent (interrupted ones end failed with ERR_AGENT_RESTARTED).
  loadPast(log: Logger): number {
    const past = loadPastJobs(this.jobsDir, { log, now: this.env.now });
    for (const j of past) this.jobs.set(j.id, j);
    return past.length;
  }

  // The job with this id, or ERR_NOT_FOUND.
  get(id: string): JobRecord {
    const job = this.jobs.get(id);
    if (!job) throw new XepaError('ERR_NOT_FOUND', `no job ${id} on this agent`);
    return job;
  }

  list(): JobSummary[] {
    return [...this.jobs.values()].map((j) => j.summary());
  }

  // Replays events after `after` and streams the rest until the job ends; returns the unsubscribe function.
  follow(id: string, after: number, fn: (e: JobEvent) => void): () => void {
    const job = this.get(id);
    let stop: () => void = () => {};
    stop = job.events.follow(after, (e) => {
      fn(e);
      if (isTerminal(e.state) && e.seq === job.events.lastSeq && job.state === e.state) queueMicrotask(stop);
    });
    return stop;
  }

  // Cancels every running job and waits for them to restore (agent shutdown).
  async shutdown(): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => !isTerminal(j.state));
    for (const j of running) j.cancel();
    await Promise.all(running.map((j) => j.done));
  }
}
