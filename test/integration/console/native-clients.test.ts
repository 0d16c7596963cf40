import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../controller/cli/main.js';
import { captureOutput } from '../../support/capture.js';
import { REPO } from '../../support/paths.js';
import { startRealVmRig, type RealVmRig } from './real-vm.js';

const CLI = join(REPO, 'dist', 'xepa.mjs');

/** A running `xepa` child process. */
interface CliChild {
  child: ChildProcess;
  lines: string[];
  until(p: RegExp): Promise<string>; // the first stdout line matching p
  exit: Promise<number | null>;
}

function spawnCli(args: string[], cwd?: string): CliChild {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`node build/bundle.mjs\` (npm test does it)`);
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const err: string[] = [];
  child.stderr!.on('data', (d: Buffer) => err.push(d.toString()));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exited = false;
  void exit.then(() => {
    exited = true;
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    lines,
    exit,
    until: async (p) => {
      for (;;) {
        const hit = lines.find((l) => p.test(l));
        if (hit) return hit;
        if (exited) throw new Error(`xepa ${args[0]} exited before printing ${p}: ${lines.join('\n')} ${err.join('')}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

// Runs a native tool to completion; resolves with its exit code and output.
function run(cmd: string, args: string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out, err }));
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

describe('native clients through the xepa CLI (real QEMU guest)', () => {
  let rig: RealVmRig;
  const pin = (): string[] => ['--fingerprint', rig.fingerprint, '--key-dir', rig.keyDir];

  beforeAll(async () => {
    rig = await startRealVmRig('text');
  });
  afterAll(() => rig?.close());

  it('lets vncsnapshot (an RFB 3.3 client) take a snapshot through `xepa console --vnc-port`', async () => {
    const cli = spawnCli(['console', rig.url, '--vnc-port', '0', ...pin()]);
    try {
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(await cli.until(/^VNC of /))?.[1]);
      const shot = join(rig.dir, 'vncsnapshot.jpg');
      const r = await run('vncsnapshot', ['-quiet', '-allowblank', `127.0.0.1::${port}`, shot]);
      expect(r.code, r.err).toBe(0);
      const jpeg = readFileSync(shot);
      expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]); // JPEG SOI
    } finally {
      cli.child.kill('SIGINT');
    }
    expect(await cli.exit).toBe(0);
  });

  it('lets socat speak QMP through `xepa qmp --listen PATH`, with the allow-list applied', async () => {
    const path = join(rig.dir, 'qmp-forward.sock');
    const cli = spawnCli(['qmp', rig.url, '--listen', path, ...pin()]);
    try {
      await cli.until(/^QMP of /);
      const input = '{"execute":"qmp_capabilities"}\n{"execute":"query-status","id":"s"}\n{"execute":"human-monitor-command","arguments":{"command-line":"info pci"},"id":"h"}\n';
      const r = await run('socat', ['-t', '3', '-', `UNIX-CONNECT:${path}`], input);
      const replies = r.out.trim().split(/\r?\n/).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(replies[0]).toHaveProperty('QMP');
      expect(replies).toContainEqual({ return: {} });
      expect(replies).toContainEqual({ return: { status: 'running', running: true, singlestep: false }, id: 's' });
      expect(replies.find((m) => m.id === 'h')).toMatchObject({ error: { class: 'GenericError' } });
    } finally {
      cli.child.kill('SIGINT');
    }
    expect(await cli.exit).toBe(0);
  });

  it('takes a pipe of 60 commands on stdin (more than the agent lets wait at once): all answered, exit 0; a refused one makes it exit 1', async () => {
    const commands = ['{"execute":"qmp_capabilities"}', ...Array.from({ length: 60 }, (_, i) => `{"execute":"query-status","id":"s${i}"}`)];
    const ok = spawnCli(['qmp', rig.url, ...pin()]);
    ok.child.stdin!.end(commands.join('\n') + '\n');
    expect(await ok.exit).toBe(0);
    const replies = ok.lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(replies.filter((m) => JSON.stringify(m).includes('ERR_UNAVAILABLE'))).toEqual([]);
    expect(replies.filter((m) => typeof m.id === 'string' && 'return' in m).map((m) => m.id)).toEqual(Array.from({ length: 60 }, (_, i) => `s${i}`));

    const refused = spawnCli(['qmp', rig.url, ...pin()]);
    refused.child.stdin!.end(`${commands[0]}\n{"execute":"human-monitor-command","arguments":{"command-line":"info pci"},"id":"h"}\n`);
    expect(await refused.exit).toBe(1);
    expect(refused.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m.id === 'h')).toMatchObject({ error: { class: 'GenericError' } });
  });

  it('serves QMP over TCP for `xepa qmp --listen 127.0.0.1:PORT`, and creates no file of that name', async () => {
    const cli = spawnCli(['qmp', rig.url, '--listen', '127.0.0.1:0', ...pin()], rig.dir);
    try {
      const address = /^QMP of \S+ on (127\.0\.0\.1:\d+) /.exec(await cli.until(/^QMP of /))?.[1];
      expect(address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
      const r = await run('socat', ['-t', '3', '-', `TCP:${address}`], '{"execute":"qmp_capabilities"}\n{"execute":"query-status","id":"s"}\n');
      const replies = r.out.trim().split(/\r?\n/).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(replies).toContainEqual({ return: { status: 'running', running: true, singlestep: false }, id: 's' });
      expect(existsSync(join(rig.dir, '127.0.0.1:0'))).toBe(false);
    } finally {
      cli.child.kill('SIGINT');
    }
    expect(await cli.exit).toBe(0);
  });

  it('attaches `xepa serial` (no TTY: stdin in, stdout out) and shows the earlier output first', async () => {
    const cli = spawnCli(['serial', rig.url, '1', ...pin()]);
    try {
      await cli.until(/XEPA-GUEST: serial1 up/);
      cli.child.stdin!.write('from-the-cli\n');
      await cli.until(/ECHO:from-the-cli/);
    } finally {
      cli.child.kill('SIGTERM');
    }
  });

  it('saves the screen with `xepa screenshot -o x.png`', async () => {
    const file = join(rig.dir, 'screen.png');
    const o = captureOutput();
    const code = await runCli(['screenshot', rig.url, '-o', file, '--json', ...pin()], o);
    expect(code, o.stderr()).toBe(0);
    expect(JSON.parse(o.stdout())).toMatchObject({ file, width: 720, height: 400 });
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(720);
    expect(png.readUInt32BE(20)).toBe(400);
  });
});
