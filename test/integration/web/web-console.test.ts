import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadControllerKey, mintToken } from '../../../controller/auth/index.js';
import { runCli } from '../../../controller/cli/main.js';
import { serveFile } from '../../../controller/demo/file-server.js';
import type { LocalAgent } from '../../../controller/demo/local-agent.js';
import { createLoopDisk, loopDevicesUnder, type LoopDisk } from '../../../controller/demo/loop-disk.js';
import { captureOutput } from '../../support/capture.js';
import { REPO } from '../../support/paths.js';
import { startTestAgent } from '../../support/test-agent.js';
import { MENU_TITLE, buildMenuIso } from './menu-iso.js';
import { startServeProcess, type ServeProcess } from './serve-process.js';
import { contentOf, differingShare, keepCanvas, keepGuestScreen } from './screen-pixels.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// The web console for real: agent bundle -> QEMU (TCG) showing a GRUB menu that waits forever -> `xepa serve`
// (the controller bundle) -> headless Debian chromium running the page's noVNC.
describe('the web console in a browser', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-web-'));
  const shots = mkdtempSync(join(tmpdir(), 'xepa-web-shots-'));
  let agent: LocalAgent;
  let disk: LoopDisk;
  let iso: { url: string; close(): Promise<void> };
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let keyDir: string;
  let job: string;
  let menuSha256: string;

  const cli = async (args: string[]) => {
    const o = captureOutput();
    const code = await runCli(args, o);
    return { code, out: o.stdout(), err: o.stderr() };
  };
  const agentCli = (args: string[]) => cli([...args, '--fingerprint', agent.fingerprint, '--key-dir', keyDir]);
  const jobState = async () => (JSON.parse((await agentCli(['jobs', agent.url, job, '--json'])).out) as { state: string }).state;
  // Polls the job until it reaches `state` (hooks cannot use expect.poll).
  const untilJob = async (state: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while ((last = await jobState()) !== state) {
      if (Date.now() > deadline) throw new Error(`job ${job} is ${last}, not ${state}, after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  // How far the page's canvas is from the guest's screen right now (1 before noVNC drew its first frame).
  const canvasVersusGuest = async (p: Page): Promise<number> => {
    if (!(await keepCanvas(p, 'canvas'))) return 1;
    const key = await loadControllerKey(keyDir);
    const token = mintToken(key.privateKey, { agentId: agent.agentId, scope: ['vnc:view'], ttlSeconds: 60 });
    await keepGuestScreen(p, 'guest', { url: agent.url, fingerprint: agent.fingerprint, token, job });
    return differingShare(p, 'canvas', 'guest');
  };

  beforeAll(async () => {
    keyDir = join(work, 'ctl');
    const menu = await buildMenuIso(work);
    menuSha256 = menu.sha256;
    iso = await serveFile(menu.path);
    disk = await createLoopDisk(join(work, 'disk.img'), 64);
    agent = await startTestAgent(work, keyDir); // its ISO server is on loopback
    const installed = await agentCli(['install', agent.url, '--iso-url', iso.url, '--sha256', menu.sha256,
      '--disk', disk.device, '--memory', '256', '--yes', '--detach', '--json']);
    expect(installed.code, installed.err).toBe(0);
    job = (JSON.parse(installed.out) as { id: string }).id;
    await untilJob('running');
    serve = await startServeProcess(join(REPO, 'dist', 'xepa.mjs'), ['--agent', agent.url, '--fingerprint', agent.fingerprint, '--key-dir', keyDir, '--listen', '127.0.0.1:0']);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }); // a fresh profile per launch
  });

  // Every step runs even when one before it failed (a leaked agent or loop device outlives the test run).
  afterAll(async () => {
    const errors: unknown[] = [];
    const step = async (f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (err) {
        errors.push(err);
      }
    };
    await step(async () => browser?.close());
    let served: number | null | undefined;
    await step(async () => (served = await serve?.stop()));
    await step(async () => {
      if (!job || !agent) return;
      await agentCli(['cancel', agent.url, job]);
      await untilJob('cancelled');
    });
    await step(async () => agent?.stop());
    await step(async () => iso?.close());
    await step(async () => disk?.detach());
    await step(async () => expect(await loopDevicesUnder(work)).toEqual([]));
    rmSync(work, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
    expect(served).toBe(0); // xepa serve ends cleanly on SIGINT
  });

  it('logs in with the one-time link and draws the guest screen, its serial output and the job', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    await page.goto(serve.link);
    await page.waitForURL(`${serve.origin}/`);
    expect(page.url()).not.toContain('t='); // the token left the address bar
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'xepa_session', httpOnly: true, sameSite: 'Strict', path: '/' });
    await expect.poll(() => page.textContent('#vnc-status'), { timeout: 30_000 }).toBe('screen: connected');

    // Pixels: the canvas shows what QEMU has on the VGA (the agent's screendump), not a blank or stale frame.
    await expect.poll(() => canvasVersusGuest(page), { timeout: 60_000, interval: 1000 }).toBeLessThan(0.01);
    expect(await keepCanvas(page, 'initial')).toEqual({ width: 720, height: 400 }); // GRUB's 80x25 text mode
    const c = await contentOf(page, 'initial');
    expect(c.colours).toBeGreaterThan(1);
    expect(c.nonBackground).toBeGreaterThan(0.02); // text and the highlight bar, on black
    expect(c.nonBackground).toBeLessThan(0.5);

    await expect.poll(() => page.textContent('#serial'), { timeout: 30_000 }).toContain(`*${MENU_TITLE}: first entry`);
    await expect.poll(() => page.textContent('#events')).toMatch(/running.*installer running under TCG/);
    await expect.poll(() => page.textContent('#job-state')).toBe(`${job}: running`);
    await page.screenshot({ path: join(shots, 'web-console.png') });
    console.log(`web console screenshots in ${shots}`);
  });

  it('refuses the login link a second time', async () => {
    const context = await browser.newContext();
    const again = await context.newPage();
    const res = await again.goto(serve.link);
    expect(res?.status()).toBe(401);
    expect(await again.textContent('body')).toMatch(/already used/);
    expect(await context.cookies()).toEqual([]);
    expect((await again.goto(`${serve.origin}/`))?.status()).toBe(401);
    await context.close();
  });

  it('refuses a WebSocket whose Origin is not the console\'s, even with a valid session', async () => {
    const cookie = (await page.context().cookies())[0]!;
    const attempt = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${serve.origin.replace('http', 'ws')}/ws/vnc?job=${job}`, ['binary'], { headers: { Origin: origin, Cookie: `${cookie.name}=${cookie.value}` } });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => (ws.close(), resolve(101)));
        ws.once('error', (err) => { if (ws.readyState !== ws.CLOSED) reject(err); });
      });
    expect(await attempt('http://evil.example')).toBe(403);
    expect(await attempt(`http://localhost:${new URL(serve.origin).port}`)).toBe(403);
    expect(await attempt(serve.origin)).toBe(101);
  });

  it('sends a key press to the guest, whose screen changes', async () => {
    await page.click('#screen canvas');
    await page.keyboard.press('ArrowDown');
    await expect.poll(async () => (await keepCanvas(page, 'now'), differingShare(page, 'now', 'initial')), { timeout: 30_000 }).toBeGreaterThan(0.02);
    await expect.poll(() => canvasVersusGuest(page), { timeout: 30_000 }).toBeLessThan(0.01);
    await expect.poll(() => page.textContent('#serial'), { timeout: 30_000 }).toContain(`*${MENU_TITLE}: second entry`);
    await page.screenshot({ path: join(shots, 'after-key.png') });
  });

  it('resets the VM from its button: the job reports the reboot and the menu starts over', async () => {
    page.once('dialog', (d) => void d.accept());
    await page.click('button[data-power="reset"]');
    await expect.poll(() => page.textContent('#action-result'), { timeout: 30_000 }).toBe('Reset: done');
    await expect.poll(() => page.textContent('#events'), { timeout: 30_000 }).toMatch(/guest rebooted/);
    await expect.poll(async () => (await keepCanvas(page, 'now'), differingShare(page, 'now', 'initial')), { timeout: 60_000, interval: 500 }).toBeLessThan(0.01);
  });

  it('ejects and changes the CD from its buttons, and refuses a file outside the agent\'s media directory', async () => {
    await page.click('button[data-media="eject"]');
    await expect.poll(() => page.textContent('#action-result'), { timeout: 30_000 }).toBe('Eject CD: done');
    await page.fill('#media-form input[name="filename"]', '/etc/passwd');
    await page.click('#media-form button');
    await expect.poll(() => page.textContent('#action-result'), { timeout: 30_000 }).toMatch(/^Change CD to \/etc\/passwd: ERR_FORBIDDEN: .*media directories/);
    const cached = join(work, 'agent', 'isos', `${menuSha256}.iso`); // where the agent keeps the fetched ISO
    await page.fill('#media-form input[name="filename"]', cached);
    await page.click('#media-form button');
    await expect.poll(() => page.textContent('#action-result'), { timeout: 30_000 }).toBe(`Change CD to ${cached}: done`);
  });

  it('gives a view-only link a session that watches the screen but cannot act', async () => {
    const minted = await cli(['serve', 'login', '--view-only', '--url', serve.origin, '--key-dir', keyDir]);
    expect(minted.code, minted.err).toBe(0);
    const context = await browser.newContext();
    const viewer = await context.newPage();
    await viewer.goto(minted.out.trim());
    await viewer.waitForURL(`${serve.origin}/`);
    expect(await viewer.textContent('.badge')).toBe('view only');
    expect(await viewer.isDisabled('button[data-power="reset"]')).toBe(true);
    await expect.poll(() => canvasVersusGuest(viewer), { timeout: 30_000 }).toBeLessThan(0.01);
    const refused = await viewer.evaluate(async (j) => (await fetch('/api/power', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ job: j, action: 'reset' }) })).status, job);
    expect(refused).toBe(403);
    await context.close();
  });
});
