// The lab harness: boots the outer VM (the "bare-metal server" in rescue mode) on TCG, keeps its serial console
// in a file, and waits until the agent inside answers /v1/health through the host port forward.
import * as childProcess from 'node:child_process';
import { createWriteStream, promises as fsp } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { XepaError } from '../../agent/protocol/errors.js';
import { fetchAgentIdentity } from '../../controller/client/index.js';
import { writeBootInitrd, type BootOverlay } from './boot-overlay.js';
import { buildOuterVmArgs, type GuestForward, type OuterDisk, type UefiFirmware } from './outer-vm-args.js';
import { openLabShell, type LabShell } from './lab-shell.js';
import type { RescueImage } from './rescue-image.js';

// A disk of the lab server: its serial, size and whether it shares the management NIC's IOMMU group.
export interface LabDiskSpec {
  serial: string;
  sizeMiB: number;
  sharesGroupWithNic?: boolean;
}

// How to boot the outer VM.
export interface OuterVmOptions {
  image: RescueImage;
  overlay: BootOverlay;
  workDir: string; // disks, initrd, console.log and the control socket go here
  disks: readonly LabDiskSpec[];
  memoryMiB?: number; // default 2560
  guestForwards?: readonly GuestForward[];
  bootTimeoutMs?: number; // until the agent answers; default 180 s
  // Network boot through the NIC's iPXE (see OuterVmSpec.netboot); the boot initrd is still written to
  // workDir/initrd.img first, for the test's HTTP server to hand out.
  netboot?: { bootfile: string };
  // UEFI (OVMF code + this server's VARS file) instead of SeaBIOS; the kernel is still given with -kernel.
  uefi?: UefiFirmware;
  log?: (line: string) => void;
  spawn?: typeof childProcess.spawn;
}

// The agent inside as the controller sees it.
export interface AgentEndpoint {
  url: string;
  fingerprint: string;
  agentId: string;
}

// A running outer VM. stop() always ends QEMU; the disk files stay for the test to inspect.
export interface OuterVm extends AgentEndpoint {
  disks: (OuterDisk & { sizeMiB: number })[];
  shell: LabShell;
  consoleLog: string;
  // Seconds from QEMU's start to the agent answering /v1/health through the forward.
  bootSeconds: number;
  // Every console line so far (the serial console, agent log included).
  consoleLines(): readonly string[];
  // Waits for the agent's next "agent listening" line after console line `from`, then for /v1/health.
  waitForAgent(from: number, timeoutMs: number): Promise<AgentEndpoint>;
  // Waits for a console line matching `pattern` at or after line `from`; resolves with the line.
  waitForConsole(pattern: RegExp, from: number, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

// Boots the outer VM and resolves once the agent answers; on failure QEMU is stopped and the error carries the
// console's tail.
export async function startOuterVm(o: OuterVmOptions): Promise<OuterVm> {
  const spawn = o.spawn ?? childProcess.spawn;
  const disks = o.disks.map((d, i) => ({ ...d, file: join(o.workDir, `nvme${i}.img`) }));
  for (const d of disks) {
    await fsp.writeFile(d.file, '');
    await fsp.truncate(d.file, d.sizeMiB * 2 ** 20);
  }
  const initrd = join(o.workDir, 'initrd.img');
  await writeBootInitrd(o.image.initrd, o.overlay, initrd);
  const controlSocket = join(o.workDir, 'lab.sock');
  const consoleLog = join(o.workDir, 'console.log');
  const port = await freePort();
  const args = buildOuterVmArgs({
    kernel: o.image.kernel, initrd, memoryMiB: o.memoryMiB ?? 2560, disks, agentHostPort: port, controlSocket,
    ...(o.guestForwards ? { guestForwards: o.guestForwards } : {}),
    ...(o.netboot ? { netboot: o.netboot } : {}),
    ...(o.uefi ? { uefi: o.uefi } : {}),
  });
  const started = Date.now();
  const child = spawn('qemu-system-x86_64', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const file = createWriteStream(consoleLog);
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let pending = '';
  let exit: string | undefined;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    file.write(chunk);
    const parts = (pending + chunk).split('\n');
    pending = parts.pop() ?? '';
    for (const l of parts) lines.push(l.replace(/\r$/, ''));
    listeners.forEach((f) => f());
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => file.write(`[qemu stderr] ${chunk}`));
  const exited = new Promise<void>((resolve) => child.once('close', (code, signal) => {
    exit = `QEMU exited (${signal ?? `code ${code}`})`;
    listeners.forEach((f) => f());
    resolve();
  }));
  child.on('error', (err) => file.write(`[harness] cannot start QEMU: ${err.message}\n`));

  const tail = (): string => lines.slice(-25).join('\n');
  const waitLine = (from: number, match: (l: string) => boolean, timeoutMs: number, what: string): Promise<number> =>
    new Promise((resolve, reject) => {
      let at = from;
      const check = (): void => {
        for (; at < lines.length; at++) if (match(lines[at]!)) return done(() => resolve(at));
        if (exit) done(() => reject(new XepaError('ERR_QEMU_EXIT', `${exit} while waiting for ${what}; console:\n${tail()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new XepaError('ERR_TIMEOUT', `no ${what} within ${timeoutMs} ms; console:\n${tail()}`))), timeoutMs);
      const done = (f: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });

  const waitForAgent = async (from: number, timeoutMs: number): Promise<AgentEndpoint> => {
    const deadline = Date.now() + timeoutMs;
    const at = await waitLine(from, (l) => parseListening(l) !== undefined, timeoutMs, 'agent listening line');
    const l = parseListening(lines[at]!)!;
    const url = `wss://127.0.0.1:${port}`;
    for (;;) {
      try {
        await fetchAgentIdentity({ url, fingerprint: l.fingerprint, timeoutMs: 5_000 });
        return { url, fingerprint: l.fingerprint, agentId: l.agentId };
      } catch (err) {
        if (Date.now() > deadline || exit) throw new XepaError('ERR_TIMEOUT', `the agent never answered /v1/health on ${url}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };

  let shell: LabShell | undefined;
  const stop = async (): Promise<void> => {
    shell?.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
    await new Promise<void>((resolve) => file.end(resolve));
    await fsp.rm(initrd, { force: true }); // 67 MiB; a kept work dir needs only the console and the disks
  };
  try {
    const timeoutMs = o.bootTimeoutMs ?? 180_000;
    const agent = await waitForAgent(0, timeoutMs);
    const bootSeconds = (Date.now() - started) / 1000;
    o.log?.(`outer VM: agent ${agent.agentId} answering on ${agent.url} ${bootSeconds.toFixed(1)} s after QEMU started`);
    shell = await openLabShell(controlSocket, { timeoutMs: 30_000 });
    return {
      ...agent, disks, shell, consoleLog, bootSeconds,
      consoleLines: () => lines,
      waitForAgent,
      waitForConsole: async (pattern, from, timeoutMs) => lines[await waitLine(from, (l) => pattern.test(l), timeoutMs, `console line ${pattern}`)]!,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// The agent's JSON log line saying it listens (port, fingerprint, agentId), if `line` is one.
export function parseListening(line: string): { fingerprint: string; agentId: string } | undefined {
  const at = line.indexOf('{');
  if (at < 0 || !line.includes('"agent listening"')) return undefined;
  try {
    const rec = JSON.parse(line.slice(at)) as { msg?: string; fingerprint?: string; agentId?: string };
    return rec.msg === 'agent listening' && rec.fingerprint && rec.agentId ? { fingerprint: rec.fingerprint, agentId: rec.agentId } : undefined;
  } catch {
    return undefined;
  }
}

// A TCP port free on 127.0.0.1 right now (QEMU binds it for the forward a moment later).
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
