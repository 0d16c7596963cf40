import { describe, expect, it } from 'vitest';
import { XepaError } from '../../../agent/protocol/index.js';
import { openWhenRunning } from '../../../controller/console/index.js';

// `xepa serial --wait`: which refusals of a console upgrade are waited through, and for how long (a fake clock).
describe('opening a console of a VM that has not started yet', () => {
  const fetching = new XepaError('ERR_JOB_STATE', 'job j1 is fetching: its VM is not running', { details: { job: 'j1', state: 'fetching' } });
  const ended = new XepaError('ERR_JOB_STATE', 'job j1 is done: its VM is not running', { details: { job: 'j1', state: 'done' } });
  const noneRunning = new XepaError('ERR_NOT_FOUND', 'no job has a running VM on this agent');

  // An opener that refuses with `refusals` in turn, then opens; and a clock that sleeping moves.
  function rig(refusals: Error[]) {
    let t = 0;
    let calls = 0;
    const told: string[] = [];
    const open = async (): Promise<string> => {
      calls++;
      const r = refusals.shift();
      if (r) throw r;
      return 'stream';
    };
    const o = { timeoutMs: 10_000, intervalMs: 1000, now: () => t, sleep: async (ms: number) => void (t += ms), onWaiting: (w: string) => told.push(w) };
    return { open, o, calls: () => calls, told, elapsed: () => t };
  }

  it('waits through a job that is still fetching and through "no job has a running VM", telling the person once', async () => {
    const r = rig([noneRunning, fetching, fetching]);
    expect(await openWhenRunning(r.open, false, r.o)).toBe('stream');
    expect(r.calls()).toBe(4);
    expect(r.told).toEqual(['no job has a running VM on this agent']);
  });

  it('does not wait for a job that has ended, nor for an unknown job id', async () => {
    const a = rig([ended]);
    await expect(openWhenRunning(a.open, true, a.o)).rejects.toBe(ended);
    const unknown = new XepaError('ERR_NOT_FOUND', 'no job j9 on this agent');
    const b = rig([unknown]);
    await expect(openWhenRunning(b.open, true, b.o)).rejects.toBe(unknown);
    expect([a.calls(), b.calls()]).toEqual([1, 1]);
  });

  it('gives up with the last refusal when the wait passes its limit', async () => {
    const r = rig(Array.from({ length: 100 }, () => fetching));
    await expect(openWhenRunning(r.open, true, r.o)).rejects.toBe(fetching);
    expect(r.elapsed()).toBe(10_000);
    expect(r.calls()).toBe(11);
  });

  it('throws any other error at once', async () => {
    const denied = new XepaError('ERR_FORBIDDEN', 'token scope does not allow serial');
    const r = rig([denied]);
    await expect(openWhenRunning(r.open, false, r.o)).rejects.toBe(denied);
  });
});
