import { isFinalState } from './job-progress.js';

/** A job as /api/jobs lists it (the fields the page uses). */
export interface JobView {
  id: string;
  state: string;
  createdAt: string;
}

// The job to show: #job=ID when given, else the newest job still going, else the newest.
export function pickJob(jobs: JobView[], hash: string): string | undefined {
  const wanted = /^#job=([A-Za-z0-9_.-]+)$/.exec(hash)?.[1];
  if (wanted && jobs.some((j) => j.id === wanted)) return wanted;
  const newest = [...jobs].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (newest.find((j) => !isFinalState(j.state)) ?? newest[0])?.id;
}
