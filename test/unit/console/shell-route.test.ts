import { afterEach, describe, expect, it } from 'vitest';
import { loadPty } from '../../../agent/console/index.js';
import { XepaError } from '../../../agent/protocol/index.js';
import { openAgentStream } from '../../../controller/console/index.js';
import { tokenFor } from '../api/fixtures.js';
import { startConsoleRig, type ConsoleRig } from './console-fixtures.js';

describe('shell endpoint', () => {
  let rig: ConsoleRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('refuses with ERR_UNAVAILABLE, naming node-pty, where node-pty cannot be loaded, while the other consoles work', async () => {
    const missing = loadPty(() => Promise.reject(new Error("Cannot find package 'node-pty'")));
    rig = await startConsoleRig({ pty: missing });
    const r = rig;
    const open = (path: string, scope: 'shell' | 'vnc:view') =>
      openAgentStream({ url: r.url, fingerprint: r.fingerprint, token: tokenFor(r.keys, [scope]), path, pingIntervalMs: 0 });
    const err = await open('/v1/shell', 'shell').then(() => undefined, (e: unknown) => e);
    expect((err as XepaError).code).toBe('ERR_UNAVAILABLE');
    expect((err as XepaError).message).toMatch(/node-pty/);
    const vnc = await open('/v1/vnc', 'vnc:view');
    expect(vnc.readyState).toBe(vnc.OPEN);
    vnc.close();
  });

  it('runs a command in a pty and reports how it exited', async () => {
    rig = await startConsoleRig({ shell: { file: '/bin/sh', args: ['-c', 'read line; echo "got $line, tty $(tty >/dev/null && echo yes)"; exit 3'] } });
    const ws = await openAgentStream({ url: rig.url, fingerprint: rig.fingerprint, token: tokenFor(rig.keys, ['shell']), path: '/v1/shell', query: { cols: '100', rows: '30' }, pingIntervalMs: 0 });
    const out: Buffer[] = [];
    let exit: unknown;
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.on('message', (d: Buffer, isBinary: boolean) => (isBinary ? out.push(d) : (exit = JSON.parse(d.toString()))));
    ws.resume();
    ws.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
    ws.send(Buffer.from('hello\r'), { binary: true });
    expect(await closed).toBe(1000);
    expect(Buffer.concat(out).toString()).toMatch(/got hello, tty yes/);
    expect(exit).toEqual({ type: 'exit', exitCode: 3, signal: 0 });
  });
});
