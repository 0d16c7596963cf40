import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ENROLLED_FILE, enrolAtBoot } from '../../../agent/enrol/index.js';

const root = mkdtempSync(join(tmpdir(), 'xepa-enrol-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const FP = ('AB:'.repeat(32)).slice(0, -1);
const request = { token: 'a'.repeat(43), agentId: 'xepa-srv-1', fingerprint: FP, port: 7443, version: 'test' };
const log = pino({ level: 'silent' });
let n = 0;
const stateDir = (): string => mkdtempSync(join(root, `s${n++}-`));
const ok = { status: 200, text: JSON.stringify({ agentId: 'xepa-srv-1', address: '192.0.2.7:7443', fingerprint: FP }) };

describe('enrolment at rescue boot', () => {
  it('retries an unreachable or failing controller with growing waits, then records the enrolment (0600)', async () => {
    const dir = stateDir();
    const answers: ({ status: number; text: string } | Error)[] = [new Error('ECONNREFUSED'), { status: 503, text: 'busy' }, ok];
    const waits: number[] = [];
    const bodies: string[] = [];
    const outcome = await enrolAtBoot({
      url: 'http://192.0.2.1:8080/vendor/v1/rescue/enrol',
      request,
      stateDir: dir,
      log,
      post: async (_u, body) => {
        bodies.push(body);
        const a = answers.shift()!;
        if (a instanceof Error) throw a;
        return a;
      },
      sleep: async (ms) => void waits.push(ms),
    });
    expect(outcome).toBe('enrolled');
    expect(waits).toEqual([1000, 2000]);
    expect(bodies.map((b) => JSON.parse(b))).toEqual([request, request, request]);
    const record = join(dir, ENROLLED_FILE);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toMatchObject({ agentId: 'xepa-srv-1', address: '192.0.2.7:7443', controller: 'http://192.0.2.1:8080' });
    expect(statSync(record).mode & 0o777).toBe(0o600);
    // Restarted: nothing is sent again (the token is spent).
    const again = await enrolAtBoot({ url: 'http://192.0.2.1:8080/x', request, stateDir: dir, log, post: async () => { throw new Error('must not post'); } });
    expect(again).toBe('already-enrolled');
  });

  it('stops at a refusal (a spent or unknown token) without recording anything', async () => {
    const dir = stateDir();
    let posts = 0;
    const outcome = await enrolAtBoot({ url: 'http://192.0.2.1/e', request, stateDir: dir, log, post: async () => (posts++, { status: 403, text: '{"code":"ERR_FORBIDDEN"}' }), sleep: async () => undefined });
    expect([outcome, posts]).toEqual(['refused', 1]);
    expect(() => statSync(join(dir, ENROLLED_FILE))).toThrow(/ENOENT/);
  });

  it('does not take a 200 that is not an enrolment reply for one, and ends when the agent stops', async () => {
    const dir = stateDir();
    const stop = new AbortController();
    let posts = 0;
    const outcome = await enrolAtBoot({
      url: 'http://192.0.2.1/e',
      request,
      stateDir: dir,
      log,
      signal: stop.signal,
      post: async () => (posts++, { status: 200, text: '<html>captive portal</html>' }),
      sleep: async () => void (posts === 3 && stop.abort()),
    });
    expect([outcome, posts]).toEqual(['stopped', 3]);
    expect(() => statSync(join(dir, ENROLLED_FILE))).toThrow(/ENOENT/);
  });
});
