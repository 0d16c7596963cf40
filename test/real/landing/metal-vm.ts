// The "metal" for the landing tests: a VM that differs from the installer VM the way a server does — a
// virtio-net NIC behind a PCIe root port (bus 1: enp1s0, where the installer VM had an e1000e at 00:02.0,
// enp0s2), the server's MAC — on a tap device inside a network namespace that plays the provider's network:
// the gateway 203.0.113.1 on-link, the server's /32 routed to the tap, IPv6 fe80::1, no DHCP anywhere.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from '../../support/wait-for.js';
import { BOOTED_MARKER, REPORT_END, ROOT_UUID, SERVER_MAC, type LandingImage } from './debian-image.js';

const run = promisify(execFile);

// The provider's side of the server's link.
export const PROVIDER = { ns: 'real-landing-provider', tap: 'real-tap0', gateway: '203.0.113.1', server: '203.0.113.10', server6: '2001:db8:10::10', prefix6: '2001:db8:10::/64' };

// Creates the provider namespace with its tap (idempotent: an old one is removed first).
export async function providerNetwork(): Promise<{ dispose(): Promise<void> }> {
  const ip = (...a: string[]) => run('ip', a);
  const n = ['-n', PROVIDER.ns];
  await ip('netns', 'del', PROVIDER.ns).catch(() => undefined);
  await ip('netns', 'add', PROVIDER.ns);
  await ip(...n, 'link', 'set', 'lo', 'up');
  await ip(...n, 'tuntap', 'add', 'dev', PROVIDER.tap, 'mode', 'tap');
  await ip(...n, 'link', 'set', PROVIDER.tap, 'up');
  await ip(...n, 'addr', 'add', `${PROVIDER.gateway}/32`, 'dev', PROVIDER.tap);
  await ip(...n, 'route', 'add', `${PROVIDER.server}/32`, 'dev', PROVIDER.tap);
  await ip(...n, 'addr', 'add', 'fe80::1/64', 'dev', PROVIDER.tap, 'nodad');
  await ip(...n, '-6', 'route', 'add', PROVIDER.prefix6, 'dev', PROVIDER.tap);
  return { dispose: async () => void (await ip('netns', 'del', PROVIDER.ns).catch(() => undefined)) };
}

// A booted metal VM: its serial console so far, a wait for a line, and the stop.
export interface MetalVm {
  console(): string;
  waitForLine(re: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

// QEMU's arguments for the metal: direct kernel boot of the image's kernel with its root by UUID. Pure.
export function metalArgs(o: { image: LandingImage; disk: string; accel: 'kvm' | 'tcg'; cpu?: string }): string[] {
  return [
    '-machine', `q35,accel=${o.accel}`, ...(o.cpu ? ['-cpu', o.cpu] : []), '-m', '1024', '-smp', '1', '-nodefaults', '-display', 'none', '-no-reboot',
    '-serial', 'stdio',
    '-kernel', o.image.kernel, '-initrd', o.image.initrd, '-append', `root=UUID=${ROOT_UUID} ro console=ttyS0 panic=-1`,
    '-drive', `file=${o.disk},if=none,id=d0,format=raw`, '-device', 'virtio-blk-pci,drive=d0',
    '-device', 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x1c',
    '-netdev', `tap,id=n0,ifname=${PROVIDER.tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=n0,mac=${SERVER_MAC},bus=rp1,addr=0x0`,
  ];
}

// Boots the metal VM inside the provider namespace.
export function bootMetal(o: { image: LandingImage; disk: string; accel: 'kvm' | 'tcg'; cpu?: string }): MetalVm {
  return startVm(['ip', 'netns', 'exec', PROVIDER.ns, 'qemu-system-x86_64', ...metalArgs(o)]);
}

// Starts a VM (the command line given, QEMU's serial console on its stdout) and watches its console.
export function startVm(argv: string[]): MetalVm {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited: string | undefined;
  child.stdout!.setEncoding('utf8').on('data', (c: string) => void (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => void (out += c));
  child.on('exit', (code, sig) => void (exited = `QEMU exited (${code ?? sig})`));
  return {
    console: () => out,
    waitForLine: async (re, timeoutMs) => {
      const m = await waitFor(() => {
        if (exited && !re.test(out)) throw new Error(`${exited} before ${re}`);
        return re.exec(out)?.[0];
      }, { timeoutMs, intervalMs: 250, what: `${re} on the VM's serial console` });
      return m;
    },
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

// Runs a command on the server over SSH from the provider's network; undefined when SSH does not answer.
export async function sshFromProvider(image: LandingImage, command: string, host = PROVIDER.server): Promise<string | undefined> {
  try {
    const { stdout } = await run('ip', ['netns', 'exec', PROVIDER.ns, 'ssh', '-i', image.sshKey, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=4', '-o', 'LogLevel=ERROR', `root@${host}`, command], { timeout: 20_000 });
    return stdout;
  } catch {
    return undefined;
  }
}

// What the image's report unit printed (links, addresses, routes) once sshd had started, from the console.
export function bootReport(consoleText: string): string | undefined {
  return new RegExp(`${BOOTED_MARKER}\\r?\\n([\\s\\S]*?)${REPORT_END}`).exec(consoleText)?.[1];
}
