import { describe, expect, it } from 'vitest';
import type { JobEvent } from '../../../agent/protocol/index.js';
import { pickJob } from '../../../controller/web/browser/job-pick.js';
import { JobHub, sendableCloseCode } from '../../../controller/web/index.js';

const ev = (seq: number, state: JobEvent['state'] = 'running'): JobEvent => ({ job: 'j', seq, ts: '2025-01-01T00:00:00Z', state, message: `event ${seq}` });

// A follow the test drives by hand: emit() delivers an event, end() ends the job.
function manualFollow() {
  const calls: string[] = [];
  let emit: (e: JobEvent) => void = () => undefined;
  let finish: () => void = () => undefined;
  const follow = (job: string, _after: number, onEvent: (e: JobEvent) => void) => {
    calls.push(job);
    emit = onEvent;
    return new Promise<void>((resolve) => (finish = resolve));
  };
  return { follow, calls, emit: (e: JobEvent) => emit(e), end: () => finish() };
}

describe('the job hub', () => {
  it('follows a job once for every browser and gives each what it missed, then live events', () => {
    const f = manualFollow();
    const hub = new JobHub(f.follow);
    const a: number[] = [];
    const b: number[] = [];
    hub.watch('j', 0, { onEvent: (e) => a.push(e.seq), onEnd: () => undefined });
    f.emit(ev(1));
    f.emit(ev(2));
    hub.watch('j', 1, { onEvent: (e) => b.push(e.seq), onEnd: () => undefined }); // resumes after seq 1
    f.emit(ev(3));
    expect(a).toEqual([1, 2, 3]);
    expect(b).toEqual([2, 3]);
    expect(f.calls).toEqual(['j']);
  });

  it('ends every watcher on the terminal event, and answers late watchers from memory', () => {
    const f = manualFollow();
    const hub = new JobHub(f.follow);
    const ends: string[] = [];
    const w = hub.watch('j', 0, { onEvent: () => undefined, onEnd: () => ends.push('early') });
    f.emit(ev(1));
    f.emit(ev(2, 'done'));
    const late: number[] = [];
    hub.watch('j', 0, { onEvent: (e) => late.push(e.seq), onEnd: () => ends.push('late') });
    w.close();
    expect(ends).toEqual(['early', 'late']);
    expect(late).toEqual([1, 2]);
    expect(f.calls).toHaveLength(1);
  });

  it('follows again after a failed follow', async () => {
    const calls: number[] = [];
    const hub = new JobHub(async () => {
      calls.push(1);
      throw new Error('agent gone');
    });
    const errors: unknown[] = [];
    hub.watch('j', 0, { onEvent: () => undefined, onEnd: (e) => errors.push(e) });
    await expect.poll(() => errors.length).toBe(1);
    hub.watch('j', 0, { onEvent: () => undefined, onEnd: () => undefined });
    expect(calls).toHaveLength(2);
  });
});

describe('the console page', () => {
  const jobs = [
    { id: 'job-old', state: 'done', createdAt: '2025-01-01T00:00:00Z' },
    { id: 'job-run', state: 'running', createdAt: '2025-01-02T00:00:00Z' },
    { id: 'job-new', state: 'failed', createdAt: '2025-01-03T00:00:00Z' },
  ];

  it('shows the job named in #job=, else the newest one still going, else the newest', () => {
    expect(pickJob(jobs, '#job=job-old')).toBe('job-old');
    expect(pickJob(jobs, '#job=unknown')).toBe('job-run');
    expect(pickJob(jobs.filter((j) => j.id !== 'job-run'), '')).toBe('job-new');
    expect(pickJob([], '')).toBeUndefined();
  });
});

describe('proxied close codes', () => {
  it('never sends the codes RFC 6455 reserves for local use', () => {
    expect(sendableCloseCode(1006)).toBe(1014); // the agent vanished: bad gateway
    expect(sendableCloseCode(1005)).toBe(1000);
    expect(sendableCloseCode(1013)).toBe(1013);
    expect(sendableCloseCode(4001)).toBe(4001);
    expect(sendableCloseCode(2000)).toBe(1000);
  });
});
