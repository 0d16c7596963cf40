import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateControllerKeys } from '../../../controller/auth/index.js';
import { runCli } from '../../../controller/cli/main.js';
import { captureOutput } from '../../support/capture.js';

describe('xepa console without --vnc-port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xepa-cli-console-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('explains the --vnc-port way when no web console is configured', async () => {
    const saved = process.env.XEPA_WEB_URL;
    delete process.env.XEPA_WEB_URL;
    try {
      const o = captureOutput();
      expect(await runCli(['console', 'rescue-1.example:7443'], o)).toBe(1);
      expect(o.stderr()).toMatch(/xepa console rescue-1\.example:7443 --vnc-port 5901/);
      expect(o.stderr()).toMatch(/xepa serve/);
    } finally {
      if (saved !== undefined) process.env.XEPA_WEB_URL = saved;
    }
  });

  it('prints a one-time login link to the configured web console', async () => {
    await generateControllerKeys(join(dir, 'keys'));
    const o = captureOutput();
    const code = await runCli(['console', 'rescue-1.example', '--web-url', 'https://ctl.example:8443/', '--view-only', '--key-dir', join(dir, 'keys'), '--json'], o);
    expect(code, o.stderr()).toBe(0);
    const out = JSON.parse(o.stdout()) as { url: string; login: string };
    expect(out.url).toBe('https://ctl.example:8443');
    expect(out.login).toMatch(/^https:\/\/ctl\.example:8443\/login\?t=\S{20,}$/);
  });

  it('refuses a --vnc-port that is not a port (ERR_BAD_REQUEST, exit 2)', async () => {
    const o = captureOutput();
    expect(await runCli(['console', 'h', '--vnc-port', 'vnc'], o)).toBe(2);
    expect(o.stderr()).toMatch(/ERR_BAD_REQUEST: --vnc-port must be a TCP port number/);
  });
});
