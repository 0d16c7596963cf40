import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QmpClient, type QmpEvent } from '../../../agent/qmp/index.js';
import { isXepaError } from '../../../agent/protocol/index.js';

const log = pino({ level: 'silent' });
let dir: string;
let qemu: ChildProcess;
let exited: Promise<number | null>;
let client: QmpClient;

async function waitForSocket(path: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await stat(path).catch(() => undefined))?.isSocket()) return;
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function nextEvent(c: QmpClient, name: string): Promise<QmpEvent> {
  return new Promise((resolve) => {
    const on = (ev: QmpEvent): void => {
      if (ev.event !== name) return;
      c.off('event', on);
      resolve(ev);
    };
    c.on('event', on);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xepa-qmp-int-'));
  const sock = join(dir, 'qmp.sock');
  qemu = spawn('qemu-system-x86_64', ['-machine', 'q35', '-accel', 'tcg', '-nodefaults', '-display', 'none',
    '-qmp', `unix:${sock},server=on,wait=off`], { stdio: ['ignore', 'ignore', 'inherit'] });
  exited = new Promise((r) => qemu.once('exit', (code) => r(code)));
  await waitForSocket(sock, 20_000);
  client = await QmpClient.connect(sock, { log });
});

afterAll(async () => {
  await client?.close();
  qemu?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('QmpClient against real QEMU', () => {
  it('reads the greeting with QEMU\'s version', () => {
    expect(client.greeting.version.qemu.major).toBeGreaterThanOrEqual(6);
  });

  it('answers query-status and query-version', async () => {
    expect(await client.execute('query-status')).toMatchObject({ status: 'running', running: true });
    const v = await client.execute<{ qemu: { major: number } }>('query-version');
    expect(v.qemu.major).toBe(client.greeting.version.qemu.major);
  });

  it('delivers STOP and RESUME events for stop and cont', async () => {
    const stopped = nextEvent(client, 'STOP');
    await client.execute('stop');
    expect((await stopped).timestamp.seconds).toBeGreaterThan(0);
    expect(await client.execute('query-status')).toMatchObject({ status: 'paused' });
    const resumed = nextEvent(client, 'RESUME');
    await client.execute('cont');
    await resumed;
  });

  it('turns a QMP error into ERR_QMP_COMMAND with QEMU\'s class', async () => {
    const err = await client.execute('eject', { id: 'no-such-cdrom' }).catch((e: unknown) => e);
    expect(isXepaError(err, 'ERR_QMP_COMMAND')).toBe(true);
    expect((err as { details: { class: string } }).details.class).toBe('DeviceNotFound');
    const unknown = await client.execute('no-such-command').catch((e: unknown) => e);
    expect((unknown as { details: { class: string } }).details.class).toBe('CommandNotFound');
  });

  it('quit gives a SHUTDOWN event, closes the session and ends QEMU', async () => {
    const shutdown = nextEvent(client, 'SHUTDOWN');
    const closed = new Promise((r) => client.once('close', r));
    await client.execute('quit').catch((e: unknown) => {
      // QEMU may close the socket before its reply is read; that is a disconnect, not a failure.
      if (!isXepaError(e, 'ERR_QMP_DISCONNECTED')) throw e;
    });
    expect((await shutdown).data).toMatchObject({ guest: false, reason: 'host-qmp-quit' });
    await closed;
    expect(await exited).toBe(0);
    expect(isXepaError(await client.execute('query-status').catch((e: unknown) => e), 'ERR_QMP_DISCONNECTED')).toBe(true);
  });
});
