import * as childProcess from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootDiskUntilMarker, runQemu } from '../../../controller/qemu/index.js';
import { codeOfAsync } from '../../support/error-code.js';

// A tiny real program plays QEMU: node runs `script`, with QEMU's argv after "--".
function fakeQemu(script: string): { spawn: typeof childProcess.spawn; children: childProcess.ChildProcess[] } {
  const children: childProcess.ChildProcess[] = [];
  const spawn = ((cmd: string, args: string[], opts: childProcess.SpawnOptions) => {
    const child = childProcess.spawn(process.execPath, ['-e', script, '--', cmd, ...args], opts);
    children.push(child);
    return child;
  }) as unknown as typeof childProcess.spawn;
  return { spawn, children };
}

const FOREVER = 'setInterval(() => {}, 1000);';
const gone = (c: childProcess.ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null;

describe('runQemu', () => {
  it('kills QEMU as soon as a serial line carries the marker, and keeps the lines without escape sequences', async () => {
    const fake = fakeQemu(`process.stdout.write('\\x1b[2Jbooting\\r\\nXEPA-OK reached\\n'); ${FOREVER}`);
    const lines: string[] = [];
    const r = await runQemu({ args: ['-serial', 'stdio'], marker: 'XEPA-OK', timeoutMs: 30_000, spawn: fake.spawn, log: (l) => lines.push(l) });
    expect(r.markerSeen).toBe(true);
    expect(r.timedOut).toBe(false);
    expect(r.signal).toBe('SIGKILL');
    expect(lines).toEqual(['booting', 'XEPA-OK reached']);
    expect(r.tail).toEqual(['booting', 'XEPA-OK reached']);
    expect(gone(fake.children[0]!)).toBe(true);
  });

  it('sees a marker that never gets its newline', async () => {
    const fake = fakeQemu(`process.stdout.write('installed: XEPA-OK'); ${FOREVER}`);
    const r = await runQemu({ args: [], marker: 'XEPA-OK', timeoutMs: 30_000, spawn: fake.spawn });
    expect(r.markerSeen).toBe(true);
    expect(r.tail).toEqual(['installed: XEPA-OK']);
  });

  it('keeps a marker line that arrives in pieces whole', async () => {
    // The rest of the line comes a moment later, as a guest's console writes it.
    const fake = fakeQemu(`process.stdout.write('XEPA-OK '); setTimeout(() => process.stdout.write('kernel=6.1\\n'), 20); ${FOREVER}`);
    const r = await runQemu({ args: [], marker: 'XEPA-OK', timeoutMs: 30_000, spawn: fake.spawn });
    expect(r.markerSeen).toBe(true);
    expect(r.tail).toEqual(['XEPA-OK kernel=6.1']);
  });

  it('kills QEMU when time runs out without the marker, and says so', async () => {
    const fake = fakeQemu(`console.log('no marker here'); ${FOREVER}`);
    const r = await runQemu({ args: [], marker: 'XEPA-OK', timeoutMs: 300, spawn: fake.spawn });
    expect(r.markerSeen).toBe(false);
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(r.seconds).toBeGreaterThanOrEqual(0.29);
    expect(gone(fake.children[0]!)).toBe(true);
  });

  it('waits for QEMU to exit when no marker is given, and reports its exit code and stderr', async () => {
    const fake = fakeQemu(`console.log('installing'); console.error('qemu-system-x86_64: warning: x'); process.exitCode = 3;`);
    const r = await runQemu({ args: [], timeoutMs: 30_000, spawn: fake.spawn });
    expect(r).toMatchObject({ markerSeen: false, timedOut: false, exitCode: 3, signal: null });
    expect(r.tail).toEqual(['installing', 'qemu: qemu-system-x86_64: warning: x']);
  });

  it('stops QEMU when the caller aborts', async () => {
    const fake = fakeQemu(FOREVER);
    const ac = new AbortController();
    const run = runQemu({ args: [], marker: 'never', timeoutMs: 30_000, spawn: fake.spawn, signal: ac.signal });
    ac.abort();
    const r = await run;
    expect(r).toMatchObject({ markerSeen: false, timedOut: false, signal: 'SIGKILL' });
  });

  it('rejects with ERR_QEMU_START, naming the binary and the purpose, when QEMU cannot start', async () => {
    const p = runQemu({ args: [], timeoutMs: 1000, qemu: '/nonexistent/qemu-system-x86_64', purpose: 'validate generic test-1' });
    expect(await codeOfAsync(p)).toBe('ERR_QEMU_START');
    await expect(p).rejects.toThrow(/\/nonexistent\/qemu-system-x86_64 to validate generic test-1/);
  });
});

describe('bootDiskUntilMarker', () => {
  const work = mkdtempSync(join(tmpdir(), 'xepa-bootcheck-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('boots the disk alone as a snapshot and is ok when the marker appears', async () => {
    const disk = join(work, 'disk,1.img');
    writeFileSync(disk, Buffer.alloc(512));
    // The fake prints the argv it was given, then the marker.
    const fake = fakeQemu(`console.log('argv ' + JSON.stringify(process.argv.slice(1))); console.log('XEPA-INSTALLED'); ${FOREVER}`);
    const boot = await bootDiskUntilMarker({ disk, marker: 'XEPA-INSTALLED', timeoutMs: 30_000, spawn: fake.spawn });
    expect(boot.ok).toBe(true);
    const argv = JSON.parse(boot.serialTail[0]!.slice('argv '.length)) as string[];
    expect(argv[0]).toBe('qemu-system-x86_64');
    expect(argv).toContain(`file=${disk.replace(',', ',,')},format=raw,if=virtio,snapshot=on`);
    expect(argv.slice(argv.indexOf('-m'), argv.indexOf('-m') + 2)).toEqual(['-m', '256']);
    expect(gone(fake.children[0]!)).toBe(true);
  });

  it('rejects a disk that does not exist with ERR_NOT_FOUND before starting QEMU', async () => {
    const fake = fakeQemu(FOREVER);
    expect(await codeOfAsync(bootDiskUntilMarker({ disk: join(work, 'missing.img'), marker: 'x', timeoutMs: 1000, spawn: fake.spawn }))).toBe('ERR_NOT_FOUND');
    expect(fake.children).toHaveLength(0);
  });
});
