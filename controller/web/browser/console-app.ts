import { wireActions } from './actions.js';
import { pickJob, type JobView } from './job-pick.js';
import { startJobProgress } from './job-progress.js';
import { startScreen } from './screen.js';
import { startSerialLog, type SerialLog } from './serial-log.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the console page has no #${id}`);
  return el as T;
};

// The agent's jobs, waiting until there is one; back to / (the login message) when the session is gone.
async function listJobs(): Promise<JobView[]> {
  for (;;) {
    const res = await fetch('/api/jobs');
    if (res.status === 401) {
      location.replace('/');
      return [];
    }
    const { jobs } = (await res.json()) as { jobs: JobView[] };
    if (jobs.length > 0) return jobs;
    $('job-state').textContent = 'no job yet: waiting for one';
    await new Promise((r) => setTimeout(r, 3000));
  }
}

// The console page: picks the job, then starts the screen, the job progress, the serial log and the buttons.
async function main(): Promise<void> {
  const viewOnly = document.body.dataset.role === 'view';
  const jobs = await listJobs();
  const job = pickJob(jobs, location.hash);
  if (!job) return;
  const select = $<HTMLSelectElement>('job-select');
  for (const j of jobs) select.append(new Option(`${j.id} (${j.state})`, j.id, false, j.id === job));
  select.addEventListener('change', () => {
    location.hash = `job=${select.value}`;
    location.reload();
  });

  startScreen({ target: $('screen'), job, viewOnly, status: (t) => ($('vnc-status').textContent = t) });
  startJobProgress({ job, list: $('events'), bar: $<HTMLProgressElement>('job-progress'), state: $('job-state') });
  let serial: SerialLog = startSerialLog({ pre: $('serial'), job, port: 0 });
  $<HTMLSelectElement>('serial-port').addEventListener('change', (ev) => {
    serial.stop();
    serial = startSerialLog({ pre: $('serial'), job, port: Number((ev.target as HTMLSelectElement).value) });
  });
  if (!viewOnly) wireActions({ job, root: $('power-pane'), form: $<HTMLFormElement>('media-form'), result: $('action-result') });
}

if (typeof document === 'object') void main();
