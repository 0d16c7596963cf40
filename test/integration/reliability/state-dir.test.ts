import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateControllerKeys } from '../../../controller/auth/index.js';
import { requireBundle } from '../../support/paths.js';

// The agent process refuses to start on a state directory another user can write, before it creates any
// secret there, and says which directory and how to fix it.
const work = mkdtempSync(join(tmpdir(), 'xepa-statedir-agent-'));
let trust = '';
beforeAll(async () => {
  trust = (await generateControllerKeys(join(work, 'ctl'))).publicKeyPath;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Runs the agent bundle on `stateDir` until it exits (or 20 s: a start that succeeds is a failure here).
function runAgent(stateDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [requireBundle(), '--host', '127.0.0.1', '--port', '0', '--state-dir', stateDir, '--trust', trust, '--accel', 'tcg'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.once('error', reject);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('the agent refuses a state directory another user can write', () => {
  it('exits 1 on a world-writable (0777) state directory, naming it and the fix, with no key created', async () => {
    const dir = join(work, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const r = await runAgent(dir);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`state directory ${dir} is writable by its group and every user (mode 0777)`);
    expect(r.output).toContain(`chmod go-w ${dir}`);
    expect(existsSync(join(dir, 'tls-key.pem'))).toBe(false);
    expect(existsSync(join(dir, 'agent-id'))).toBe(false);
  });

  it('exits 1 on a state directory owned by another uid (65534)', async () => {
    const dir = join(work, 'foreign');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    const r = await runAgent(dir);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`state directory ${dir} is owned by uid 65534`);
    expect(existsSync(join(dir, 'tls-key.pem'))).toBe(false);
  });
});
