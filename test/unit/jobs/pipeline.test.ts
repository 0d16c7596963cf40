import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { recoverSteps, runSteps } from '../../../agent/jobs/index.js';
import { InstallRequest, XepaError, type Plan } from '../../../agent/protocol/index.js';
import type { JobStep, StepContext } from '../../../agent/steps/index.js';

const log = pino({ level: 'silent' });
const plan = { disks: [] } as unknown as Plan;
const request = InstallRequest.parse({ iso: { url: 'http://mirror.example/x.iso', sha256: 'a'.repeat(64) }, disks: [{ path: '/dev/loop7' }] });

function context(dir: string, abort = new AbortController()): StepContext {
  return { job: { id: 'job-1', dir, request, plan }, log, now: () => new Date(), signal: abort.signal, values: {}, state: () => 'running', emit: () => undefined };
}

// A step that records its run and its undo, and fails where told.
function step(name: string, calls: string[], o: { fail?: boolean; undoFails?: boolean; noUndo?: boolean; during?: () => void } = {}): JobStep {
  return {
    name,
    async run() {
      calls.push(`run ${name}`);
      o.during?.();
      if (o.fail) throw new XepaError('ERR_INTERNAL', `${name} failed`);
      if (o.noUndo) return;
      return async () => {
        calls.push(`undo ${name}`);
        if (o.undoFails) throw new XepaError('ERR_VFIO_RESTORE', `${name} undo failed`);
      };
    },
  };
}

const journalOf = (dir: string): string[] => JSON.parse(readFileSync(join(dir, 'undo.json'), 'utf8')) as string[];

describe('runSteps', () => {
  it('runs the steps in order and unwinds their undos in reverse, leaving an empty undo journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xepa-pipe-'));
    const calls: string[] = [];
    const out = await runSteps([step('a', calls), step('b', calls, { noUndo: true }), step('c', calls)], context(dir), () => calls.push('unwind'));
    expect(out).toEqual({});
    expect(calls).toEqual(['run a', 'run b', 'run c', 'unwind', 'undo c', 'undo a']);
    expect(journalOf(dir)).toEqual([]);
  });

  it('stops at a failing step, undoes only what ran (the failing step included), and returns its error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xepa-pipe-'));
    const calls: string[] = [];
    const out = await runSteps([step('a', calls), step('b', calls, { fail: true }), step('c', calls)], context(dir), () => calls.push('unwind'));
    expect((out.error as XepaError).message).toBe('b failed');
    expect(calls).toEqual(['run a', 'run b', 'unwind', 'undo a']);
  });

  it('runs every undo even when one fails, reports the first failure, and keeps the failed step in the journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xepa-pipe-'));
    const calls: string[] = [];
    const out = await runSteps([step('a', calls), step('b', calls, { undoFails: true }), step('c', calls, { undoFails: true })], context(dir), () => undefined);
    expect(out.error).toBeUndefined();
    expect((out.undoError as XepaError).message).toBe('c undo failed');
    expect(calls).toEqual(['run a', 'run b', 'run c', 'undo c', 'undo b', 'undo a']);
    expect(journalOf(dir)).toEqual(['b', 'c']);
  });

  it('a cancel between steps ends the run with ERR_CANCELLED and still unwinds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xepa-pipe-'));
    const abort = new AbortController();
    const calls: string[] = [];
    const out = await runSteps([step('a', calls, { during: () => abort.abort() }), step('b', calls)], context(dir, abort), () => undefined);
    expect((out.error as XepaError).code).toBe('ERR_CANCELLED');
    expect(calls).toEqual(['run a', 'undo a']);
  });
});

describe('recoverSteps', () => {
  it('recovers the steps a dead agent left in each job\'s journal, last first, and empties the journal', async () => {
    const jobs = mkdtempSync(join(tmpdir(), 'xepa-recover-'));
    for (const [id, pending] of [['job-1', ['fetch', 'bind', 'boot']], ['job-2', []]] as const) {
      mkdirSync(join(jobs, id));
      writeFileSync(join(jobs, id, 'undo.json'), JSON.stringify(pending));
    }
    const calls: string[] = [];
    const recovering = (name: string): Pick<JobStep, 'name' | 'recover'> => ({ name, recover: async (job) => void calls.push(`${name} ${job.id}`) });
    const recovered = await recoverSteps([{ name: 'fetch' }, recovering('bind'), recovering('boot')], jobs, log);
    expect(recovered).toEqual(['job-1']);
    expect(calls).toEqual(['boot job-1', 'bind job-1']);
    expect(journalOf(join(jobs, 'job-1'))).toEqual([]);
  });

  it('keeps a step whose recovery failed in the journal for the next start', async () => {
    const jobs = mkdtempSync(join(tmpdir(), 'xepa-recover-'));
    mkdirSync(join(jobs, 'job-1'));
    writeFileSync(join(jobs, 'job-1', 'undo.json'), JSON.stringify(['bind']));
    await recoverSteps([{ name: 'bind', recover: async () => { throw new Error('device still busy'); } }], jobs, log);
    expect(journalOf(join(jobs, 'job-1'))).toEqual(['bind']);
  });
});
