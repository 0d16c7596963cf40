// Test helper: two network namespaces the test owns — one plays the rescue system (loopback services and a
// public address), one plays the internet (a server behind the rescue system's default route) — with marker
// servers in each that count the connections they accept.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../../support/paths.js';

const run = promisify(execFile);
const FIXTURE = join(REPO, 'test/integration/guest-net/marker-server.mjs');

// The lab's namespaces, addresses, server ports and the connections each server accepted.
export interface NetLab {
  rescue: string;
  internet: string;
  /** The rescue system's public address (its end of the link to the internet). */
  publicAddr: string;
  /** An address of the internet namespace, off-link for the rescue system (reached by its default route). */
  outsideAddr: string;
  ports: { loopback: number; public: number; outside: number };
  accepted: Map<string, number>;
  ipForward(): Promise<string>;
  /** `nft list tables` and `ip -br link` in the rescue namespace. */
  rescueState(): Promise<{ tables: string; links: string }>;
  close(): Promise<void>;
}

const ip = (args: string[]): Promise<unknown> => run('ip', args);

// Creates the namespaces and starts the servers (loopback=127.0.0.1 and public in the rescue system, outside in the internet).
export async function startNetLab(): Promise<NetLab> {
  const tag = randomBytes(3).toString('hex');
  const rescue = `xt-rescue-${tag}`;
  const internet = `xt-inet-${tag}`;
  const publicAddr = '198.51.100.1';
  const outsideAddr = '203.0.113.10';
  const children: ChildProcess[] = [];
  const accepted = new Map<string, number>();
  const close = async (): Promise<void> => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const ns of [rescue, internet]) await ip(['netns', 'del', ns]).catch(() => undefined);
  };
  try {
    await ip(['netns', 'add', rescue]);
    await ip(['netns', 'add', internet]);
    await ip(['-n', rescue, 'link', 'set', 'lo', 'up']);
    await ip(['-n', internet, 'link', 'set', 'lo', 'up']);
    await ip(['-n', rescue, 'link', 'add', 'xr0', 'type', 'veth', 'peer', 'name', 'xi0', 'netns', internet]);
    await ip(['-n', rescue, 'addr', 'add', `${publicAddr}/24`, 'dev', 'xr0']);
    await ip(['-n', rescue, 'link', 'set', 'xr0', 'up']);
    await ip(['-n', internet, 'addr', 'add', '198.51.100.2/24', 'dev', 'xi0']);
    await ip(['-n', internet, 'link', 'set', 'xi0', 'up']);
    await ip(['-n', internet, 'addr', 'add', `${outsideAddr}/32`, 'dev', 'lo']);
    await ip(['-n', rescue, 'route', 'add', 'default', 'via', '198.51.100.2']);
    await ip(['-n', internet, 'route', 'add', 'default', 'via', publicAddr]);
    // a rescue system is no router (a new namespace copies the machine's current value, whatever it is now)
    await run('ip', ['netns', 'exec', rescue, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
    const [r, o] = await Promise.all([
      startServers(rescue, [`loopback=127.0.0.1:0`, `public=${publicAddr}:0`], accepted, children),
      startServers(internet, [`outside=${outsideAddr}:0`], accepted, children),
    ]);
    const ports = { loopback: r.get('loopback')!, public: r.get('public')!, outside: o.get('outside')! };
    return {
      rescue, internet, publicAddr, outsideAddr, ports, accepted, close,
      ipForward: async () => (await run('ip', ['netns', 'exec', rescue, 'sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim(),
      rescueState: async () => ({
        tables: (await run('ip', ['netns', 'exec', rescue, 'nft', 'list', 'tables'])).stdout,
        links: (await run('ip', ['-n', rescue, '-br', 'link'])).stdout,
      }),
    };
  } catch (err) {
    await close();
    throw err;
  }
}

// Starts the marker servers in `ns`; resolves with each one's port once all listen.
function startServers(ns: string, specs: string[], accepted: Map<string, number>, children: ChildProcess[]): Promise<Map<string, number>> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, FIXTURE, ...specs], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const ports = new Map<string, number>();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`marker servers in ${ns} exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [what, name, port] = line.split(' ');
      if (what === 'accepted') accepted.set(name!, (accepted.get(name!) ?? 0) + 1);
      if (what === 'listening') ports.set(name!, Number(port));
      if (what === 'listening' && ports.size === specs.length) resolve(ports);
    });
  });
}
