import { wireActions } from './actions.js';
import { browser, byId } from './dom.js';
import { isFinalState, startJobProgress } from './job-progress.js';
import { startScreen } from './screen.js';
import { startSerialLog, type SerialLog } from './serial-log.js';

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

async function listJobs(): Promise<JobView[]> {
  for (;;) {
    const res = await browser.fetch('/api/jobs');
    if (res.status === 401) {
      browser.location.replace('/');
      return [];
    }
    const { jobs } = (await res.json()) as { jobs: JobView[] };
    if (jobs.length > 0) return jobs;
    byId('job-state').textContent = 'no job yet: waiting for one';
    await new Promise((r) => browser.setTimeout(() => r(undefined), 3000));
  }
}

// The console page: picks the job, then starts the screen, the job progress, the serial log and the buttons.
async function main(): Promise<void> {
  const viewOnly = browser.document.body.dataset.role === 'view';
  const jobs = await listJobs();
  const job = pickJob(jobs, browser.location.hash);
  if (!job) return;
  const select = byId('job-select');
  for (const j of jobs) select.append(new browser.Option(`${j.id} (${j.state})`, j.id, false, j.id === job));
  select.addEventListener('change', () => {
    browser.location.hash = `job=${String(select.value)}`;
    browser.location.reload();
  });

  startScreen({ target: byId('screen'), job, viewOnly, status: (t) => (byId('vnc-status').textContent = t) });
  startJobProgress({ job, list: byId('events'), bar: byId('job-progress'), state: byId('job-state') });
  let serial: SerialLog = startSerialLog({ pre: byId('serial'), job, port: 0 });
  byId('serial-port').addEventListener('change', (ev) => {
    serial.stop();
    serial = startSerialLog({ pre: byId('serial'), job, port: Number(ev.target?.value ?? 0) });
  });
  if (!viewOnly) wireActions({ job, root: byId('power-pane'), form: byId('media-form'), result: byId('action-result') });
}

if (typeof (globalThis as { document?: unknown }).document === 'object') void main();
