import type { Logger } from 'pino';
import { driveJob, type DriveOutcome, type JobDriverDeps } from './job-driver.js';

/** Options of startReplica: the driver's dependencies and how often to look for jobs nobody drives. */
export interface ReplicaOptions extends JobDriverDeps {
  pollMs?: number; // default 1 s
  maxJobs?: number; // jobs driven at once by this replica; default 1000
  onOutcome?: (jobId: string, o: DriveOutcome) => void;
  log?: Logger;
}

/** A running replica loop. */
export interface Replica {
  driving(): string[]; // the jobs this replica drives now
  stop(): Promise<void>; // stops looking for work and waits for the jobs it drives (their leases stay until they end)
}

// One replica's work loop: every pollMs it asks the store for unfinished jobs no replica holds a live lease on
// (new ones, and those of a replica that died) and drives each; the lease decides who wins when several look.
export function startReplica(o: ReplicaOptions): Replica {
  const active = new Map<string, Promise<void>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      const room = (o.maxJobs ?? 1000) - active.size;
      if (room <= 0) return;
      for (const job of await o.store.drivableJobs(room + active.size)) {
        if (stopped || active.has(job.id) || active.size >= (o.maxJobs ?? 1000)) continue;
        const run = driveJob(o, job.id).then(
          (outcome) => o.onOutcome?.(job.id, outcome),
          (err: unknown) => o.log?.error({ job: job.id, err: String(err) }, 'driving failed'),
        ).finally(() => active.delete(job.id));
        active.set(job.id, run);
      }
    } catch (err) {
      o.log?.warn({ err: String(err) }, 'cannot list drivable jobs');
    } finally {
      if (!stopped) timer = setTimeout(() => void tick(), o.pollMs ?? 1000);
    }
  };
  void tick();
  return {
    driving: () => [...active.keys()],
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all(active.values());
    },
  };
}
