/** A job event as the console's /api/events sends it (agent/protocol JobEvent). */
export interface JobEventView {
  seq: number;
  ts: string;
  state: string;
  progress?: number;
  message: string;
}

const TERMINAL = ['done', 'failed', 'cancelled'];

// Whether a job state is final.
export const isFinalState = (state: string): boolean => TERMINAL.includes(state);

// Follows a job's events from /api/events: the EventSource resumes by itself after a drop (it sends the last
// seq as Last-Event-ID), and is closed on `end` so it does not reconnect to a finished job.
export function startJobProgress(o: { job: string; list: HTMLElement; bar: HTMLProgressElement; state: HTMLElement }): { stop(): void } {
  const es = new EventSource(`/api/events?job=${encodeURIComponent(o.job)}`);
  es.addEventListener('job', (ev: MessageEvent<string>) => {
    const e = JSON.parse(ev.data) as JobEventView;
    const li = document.createElement('li');
    li.className = `ev ${e.state}`;
    const time = document.createElement('time');
    time.textContent = new Date(e.ts).toLocaleTimeString();
    const state = document.createElement('b');
    state.textContent = e.state;
    li.append(time, ' ', state, ' ', e.message);
    o.list.append(li);
    o.list.scrollTop = o.list.scrollHeight;
    o.state.textContent = `${o.job}: ${e.state}`;
    o.state.dataset.state = e.state;
    if (e.progress !== undefined) o.bar.value = e.progress;
    else if (e.state === 'running' || e.state === 'done') o.bar.value = 1;
  });
  es.addEventListener('end', () => es.close());
  return { stop: () => es.close() };
}
