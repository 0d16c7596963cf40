import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { DEFAULT_CONSOLE_LIMITS } from '../../../agent/console/index.js';
import { ViewerCounts } from '../../../agent/console/viewer-counts.js';
import type { Scope } from '../../../agent/protocol/index.js';
import { openAgentStream } from '../../../controller/console/index.js';
import { codeOf, codeOfAsync } from '../../support/error-code.js';
import { tokenFor } from '../api/fixtures.js';
import { startConsoleRig, type ConsoleRig } from './console-fixtures.js';

// VNC slots are reserved per role: view-only viewers (vnc:view) can never take the slots kept for full access,
// so a crowd of watchers cannot lock out the operator who has to type.
// The server test runs with small numbers (every viewer is a TLS connection); the defaults are checked below.
const MAX = 6;
const RESERVED = 2;

describe('ViewerCounts with slots reserved for full access', () => {
  it('keeps slots for full access by default (8 of 32: view-only viewers get at most 24)', () => {
    expect([DEFAULT_CONSOLE_LIMITS.maxViewers.vnc, DEFAULT_CONSOLE_LIMITS.vncReservedFull]).toEqual([32, 8]);
  });

  it('admits view-only viewers up to max - reserved, and full-access ones up to max', () => {
    const c = new ViewerCounts({ ...DEFAULT_CONSOLE_LIMITS.maxViewers, vnc: 4 }, { vnc: 1 });
    for (let i = 0; i < 3; i++) (c.check('vnc', 'view'), c.acquire('vnc', 'view'));
    expect(codeOf(() => c.check('vnc', 'view'))).toBe('ERR_UNAVAILABLE');
    expect(codeOf(() => c.check('vnc', 'full'))).toBeUndefined();
    const full = c.acquire('vnc', 'full');
    expect(codeOf(() => c.check('vnc', 'full'))).toBe('ERR_UNAVAILABLE'); // 4 of 4
    full();
    full(); // releasing twice counts once
    expect([c.count('vnc'), c.count('vnc', 'view'), c.count('vnc', 'full')]).toEqual([3, 3, 0]);
  });

  it('lets full-access viewers beyond the reservation share the rest with view-only ones', () => {
    const c = new ViewerCounts({ ...DEFAULT_CONSOLE_LIMITS.maxViewers, vnc: 4 }, { vnc: 1 });
    c.acquire('vnc', 'full');
    c.acquire('vnc', 'full');
    c.acquire('vnc', 'view');
    expect(codeOf(() => c.check('vnc', 'view'))).toBeUndefined(); // 4 - max(1, 2) = 2 view-only slots
    c.acquire('vnc', 'view');
    expect(codeOf(() => c.check('vnc', 'view'))).toBe('ERR_UNAVAILABLE');
  });
});

describe('/v1/vnc slots through the agent server', () => {
  let rig: ConsoleRig;
  const open = (scope: Scope): Promise<WebSocket> =>
    openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: tokenFor(rig.keys, [scope]), path: '/v1/vnc', pingIntervalMs: 0 });
  const opened: WebSocket[] = [];

  beforeAll(async () => {
    rig = await startConsoleRig({ limits: { maxViewers: { ...DEFAULT_CONSOLE_LIMITS.maxViewers, vnc: MAX }, vncReservedFull: RESERVED } });
  });
  afterAll(async () => {
    for (const ws of opened) ws.close();
    await rig?.close();
  });

  it(`refuses the view-only viewer past ${MAX - RESERVED} (ERR_UNAVAILABLE) and still admits ${RESERVED} full-access viewers`, async () => {
    opened.push(...(await Promise.all(Array.from({ length: MAX - RESERVED }, () => open('vnc:view')))));
    const extraView = await codeOfAsync(open('vnc:view'));
    expect(extraView).toBe('ERR_UNAVAILABLE');
    opened.push(...(await Promise.all(Array.from({ length: RESERVED }, () => open('vnc')))));
    expect(opened.every((ws) => ws.readyState === 1)).toBe(true);
    expect(await codeOfAsync(open('vnc'))).toBe('ERR_UNAVAILABLE'); // the endpoint is full: MAX in all
    // A view-only viewer leaving frees a slot that a full-access viewer may take.
    const left = opened.shift() as WebSocket;
    left.terminate(); // the stream is paused (openAgentStream), so it would never read the server's close reply
    await expect.poll(async () => {
      const ws = await open('vnc').catch(() => undefined);
      if (ws) opened.push(ws);
      return ws !== undefined;
    }, { timeout: 5000 }).toBe(true);
  }, 30_000); // a dozen TLS connections: seconds on a busy 2-core host
});
