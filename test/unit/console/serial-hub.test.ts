import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SerialHub, type SerialViewer } from '../../../agent/console/index.js';
import { silentLog } from '../api/fixtures.js';
import { waitFor } from '../../support/wait-for.js';

// A serial port as QEMU serves it: one unix socket, one client; `guest` writes what the guest prints.
async function fakePort(dir: string) {
  const path = join(dir, 'serial0.sock');
  let conn: net.Socket | undefined;
  const received: Buffer[] = [];
  let onConn: (() => void) | undefined;
  const server = net.createServer((s) => {
    conn = s;
    s.on('data', (d: Buffer) => received.push(d));
    s.on('error', () => undefined);
    onConn?.();
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    received,
    connected: (): Promise<net.Socket> => (conn ? Promise.resolve(conn) : new Promise((r) => (onConn = () => r(conn!)))),
    close: () => new Promise<void>((r) => {
      conn?.destroy();
      server.close(() => r());
    }),
  };
}

// A viewer that records what it is sent; bufferedAmount is set by the test.
function viewer() {
  const got: Buffer[] = [];
  const closed: { code: number; reason: string }[] = [];
  const waiters: (() => void)[] = [];
  const v: SerialViewer & { bufferedAmount: number; paused: boolean } = {
    bufferedAmount: 0,
    paused: false,
    send: (d) => {
      got.push(Buffer.from(d));
      for (const w of waiters.splice(0)) w();
    },
    close: (code, reason) => void closed.push({ code, reason }),
    pause: () => void (v.paused = true),
    resume: () => void (v.paused = false),
  };
  const text = (): string => Buffer.concat(got).toString();
  const until = async (s: string): Promise<string> => {
    while (!text().includes(s)) await new Promise<void>((r) => waiters.push(r));
    return text();
  };
  return { v, got, closed, text, until };
}

describe('serial hub', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xepa-serial-'));
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A hub over a fresh fake port, both closed after the test; `guest` is the port's end that QEMU would hold.
  async function hubOn(o: { ringBytes: number; viewerBacklogBytes: number; logPath?: string }) {
    const port = await fakePort(dir);
    const hub = await SerialHub.open({ socketPath: port.path, ...o, log: silentLog() });
    cleanups.push(() => hub.close(), port.close);
    return { port, hub, guest: await port.connected() };
  }

  it('gives a late viewer the output printed before it came, from the log and from the live port', async () => {
    const logPath = join(dir, 'serial0.log');
    writeFileSync(logPath, 'BIOS\r\nbooting the installer\r\n');
    const { hub, guest } = await hubOn({ logPath, ringBytes: 1024, viewerBacklogBytes: 1 << 20 });
    const early = viewer();
    hub.attach(early.v);
    guest.write('partitioning /dev/sda\r\n');
    await early.until('partitioning');
    const late = viewer();
    hub.attach(late.v);
    expect(late.text()).toBe('BIOS\r\nbooting the installer\r\npartitioning /dev/sda\r\n');
    guest.write('done\r\n');
    expect(await late.until('done')).toMatch(/partitioning \/dev\/sda\r\ndone\r\n$/);
    expect(await early.until('done')).toBe('BIOS\r\nbooting the installer\r\npartitioning /dev/sda\r\ndone\r\n');
  });

  it('keeps only the newest ringBytes of scrollback', async () => {
    const { hub, guest } = await hubOn({ ringBytes: 8, viewerBacklogBytes: 1 << 20 });
    const first = viewer();
    hub.attach(first.v);
    guest.write('0123456789abcdef');
    await first.until('f');
    const late = viewer();
    hub.attach(late.v);
    expect(late.text()).toBe('89abcdef');
  });

  it("sends every viewer's input to the guest", async () => {
    const { port, hub } = await hubOn({ ringBytes: 64, viewerBacklogBytes: 1 << 20 });
    const a = hub.attach(viewer().v);
    const b = hub.attach(viewer().v);
    a.input(Buffer.from('root\n'));
    b.input(Buffer.from('ls\n'));
    // Wait for as many bytes as were sent, then look at what they are (the wait alone proves nothing).
    await waitFor(() => Buffer.concat(port.received).length >= 8, { what: 'the viewers\' 8 bytes to reach the guest' });
    expect(Buffer.concat(port.received).toString()).toBe('root\nls\n');
  });

  it('drops a viewer that fell too far behind instead of holding the guest up, and keeps serving the others', async () => {
    const { hub, guest } = await hubOn({ ringBytes: 64, viewerBacklogBytes: 1000 });
    const slow = viewer();
    const fine = viewer();
    hub.attach(slow.v);
    hub.attach(fine.v);
    slow.v.bufferedAmount = 1001;
    guest.write('more output\r\n');
    await fine.until('more output');
    expect(slow.closed).toEqual([{ code: 1013, reason: expect.stringMatching(/fell more than 1000 bytes behind/) }]);
    expect(slow.got).toHaveLength(0);
    expect(hub.viewerCount).toBe(1);
  });

  it('closes its viewers when the port closes (the VM ended)', async () => {
    const { port, hub } = await hubOn({ ringBytes: 64, viewerBacklogBytes: 1000 });
    const v = viewer();
    hub.attach(v.v);
    const ended = new Promise<void>((r) => hub.onClose(r));
    await port.close();
    await ended;
    expect(v.closed[0]?.code).toBe(1000);
    expect(hub.closed).toBe(true);
  });

  it('rejects (ERR_CONNECT) when the port socket is not there', async () => {
    await expect(SerialHub.open({ socketPath: join(dir, 'nope.sock'), ringBytes: 64, viewerBacklogBytes: 1000, log: silentLog() })).rejects.toMatchObject({ code: 'ERR_CONNECT' });
  });

});
