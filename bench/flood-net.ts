import * as childProcess from 'node:child_process';
import { randomBytes } from 'node:crypto';

// Hosts with source addresses of their own for the admission-under-flood test and benchmark: network namespaces
// `xepa-flood-<pid>-<rand>-<i>`, each joined to the root namespace by a veth pair on its own /30 of 10.250.<o>.0/24
// (an octet no address of this machine uses). The agent listens on the root side of host 0's pair (10.250.<o>.1);
// every host routes to it through its own pair. Nothing outside these namespaces and pairs is touched.

/** One namespace and the address it sends from. */
export interface FloodHost {
  ns: string;
  address: string;
}

/** The namespaces of one test run and the address the agent listens on. */
export interface FloodNet {
  agentAddress: string;
  hosts: FloodHost[];
  // Starts `node script arg` inside host `i`'s namespace (stdout piped, stderr inherited).
  spawnIn(i: number, script: string, arg: string): childProcess.ChildProcess;
  destroy(): Promise<void>; // deletes the namespaces (and with them the veth pairs); safe to call twice
}

const PREFIX = 'xepa-flood-';

// Runs `ip` with these arguments; rejects with its stderr when it fails.
function ip(args: string[], spawn: typeof childProcess.spawn): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ip ${args.join(' ')}: ${err.trim() || `exit ${code}`}`))));
  });
}

// Deletes the namespaces an earlier run left behind when its process was killed (its pid is gone) and, with
// `own`, those of this process too (a test's last resort after a timeout cut its cleanup short).
export async function removeLeftoverFloodNets(own = false, spawn: typeof childProcess.spawn = childProcess.spawn): Promise<void> {
  const names = (await ip(['netns', 'list'], spawn)).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(PREFIX));
  for (const name of names) {
    const pid = parseInt(name.slice(PREFIX.length).split('-')[0]!, 36);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive || (own && pid === process.pid)) await ip(['netns', 'del', name], spawn).catch(() => undefined);
  }
}

// Picks a /24 of 10.250.0.0/16 that no interface of this machine has an address in.
async function freeOctet(spawn: typeof childProcess.spawn): Promise<number> {
  const used = await ip(['-4', '-o', 'addr', 'show'], spawn);
  for (let tries = 0; tries < 64; tries++) {
    const o = randomBytes(1)[0]!;
    if (!used.includes(`10.250.${o}.`)) return o;
  }
  throw new Error('no free /24 in 10.250.0.0/16');
}

// Creates `count` namespaces (at most 63), each with its veth pair, addresses and a default route to the agent.
export async function createFloodNet(count: number, spawn: typeof childProcess.spawn = childProcess.spawn): Promise<FloodNet> {
  if (count < 1 || count > 63) throw new RangeError('1 to 63 hosts');
  await removeLeftoverFloodNets(false, spawn);
  const octet = await freeOctet(spawn);
  const id = `${process.pid.toString(36)}-${randomBytes(2).toString('hex')}`;
  const tag = id.replace('-', '').slice(-8); // veth names: at most 15 characters
  const hosts: FloodHost[] = [];
  let destroyed = false;
  const net: FloodNet = {
    agentAddress: `10.250.${octet}.1`,
    hosts,
    spawnIn: (i, script, arg) =>
      spawn('ip', ['netns', 'exec', hosts[i]!.ns, process.execPath, script, arg], { stdio: ['ignore', 'pipe', 'inherit'] }),
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      for (let i = 0; i < count; i++) {
        await ip(['netns', 'del', `${PREFIX}${id}-${i}`], spawn).catch(() => undefined);
        await ip(['link', 'del', `xf${tag}${i}r`], spawn).catch(() => undefined); // gone with the namespace, normally
      }
    },
  };
  try {
    for (let i = 0; i < count; i++) {
      const ns = `${PREFIX}${id}-${i}`;
      const [root, peer] = [`xf${tag}${i}r`, `xf${tag}${i}n`];
      const [gw, address] = [`10.250.${octet}.${4 * i + 1}`, `10.250.${octet}.${4 * i + 2}`];
      await ip(['netns', 'add', ns], spawn);
      hosts.push({ ns, address });
      await ip(['link', 'add', root, 'type', 'veth', 'peer', 'name', peer, 'netns', ns], spawn);
      await ip(['addr', 'add', `${gw}/30`, 'dev', root], spawn);
      await ip(['link', 'set', root, 'up'], spawn);
      await ip(['-n', ns, 'addr', 'add', `${address}/30`, 'dev', peer], spawn);
      await ip(['-n', ns, 'link', 'set', peer, 'up'], spawn);
      await ip(['-n', ns, 'link', 'set', 'lo', 'up'], spawn);
      await ip(['-n', ns, 'route', 'add', 'default', 'via', gw], spawn);
    }
  } catch (err) {
    await net.destroy();
    throw err;
  }
  return net;
}
