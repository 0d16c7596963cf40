// `xepa rescue add|list|remove`: register a server for a rescue boot from this controller's `xepa serve`. Each
// registration mints a one-time enrolment token; the server chains the printed iPXE URL, boots Alpine with the
// agent's apkovl, and the agent reports its TLS fingerprint with the token (docs/injection.md, "Netboot").
import { XepaError } from '../../../agent/protocol/index.js';
import { defaultControllerDir } from '../../auth/index.js';
import { addRescueHost, isPending, readRescueHosts, removeRescueHost, rescuePath, rescuePaths } from '../../rescue/index.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';
import { deadlineOf } from './install.js';

// Alpine's netboot files (the rescue system Equinix Metal used); --netboot-base points elsewhere (a mirror, the lab).
const ALPINE_NETBOOT = 'https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/x86_64/netboot';
const ALPINE_REPO = 'https://dl-cdn.alpinelinux.org/alpine/v3.20/main';

export const RESCUE_USAGE = `usage: xepa rescue add HOST [--agent-id ID] [--ttl 24h] [--public-url URL] [--netboot-base URL]
                        [--alpine-repo URL] [--console ttyS1,115200]... [--key-dir DIR]
       xepa rescue list [--key-dir DIR]
       xepa rescue remove HOST [--key-dir DIR]
add registers HOST for one rescue boot: it prints the iPXE URL to chain (the provider's custom iPXE URL) and
a one-time enrolment token that the apkovl carries. At first boot the agent reports its TLS fingerprint with it
and \`xepa serve\` (which serves the script and the apkovl beside Vendor Services) records it in agents.json. A
rescue system keeps its identity in RAM: every rescue boot needs a new \`rescue add\`.`;

const OPTIONS = {
  'agent-id': { type: 'string' },
  ttl: { type: 'string', default: '24h' },
  'public-url': { type: 'string', default: 'http://127.0.0.1:8080' },
  'netboot-base': { type: 'string', default: ALPINE_NETBOOT },
  'alpine-repo': { type: 'string', default: ALPINE_REPO },
  console: { type: 'string', multiple: true },
  'key-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function rescueCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return line(o.out, RESCUE_USAGE), 0;
  const file = rescuePath(values['key-dir'] ?? defaultControllerDir());
  const [verb, host, ...extra] = positionals;
  if (extra.length > 0) throw new XepaError('ERR_BAD_REQUEST', `unexpected ${extra.join(' ')}\n${RESCUE_USAGE}`);
  if (verb === 'list') {
    const hosts = await readRescueHosts(file);
    if (hosts.length === 0) line(o.out, 'no hosts registered for a rescue boot (xepa rescue add HOST)');
    for (const h of hosts) {
      const state = h.enrolledAt ? `enrolled ${h.enrolledAt}` : isPending(h) ? `pending until ${h.expiresAt}` : `expired ${h.expiresAt}`;
      line(o.out, `${h.host.padEnd(24)} ${h.agentId.padEnd(24)} ${state}`);
    }
    return 0;
  }
  if ((verb !== 'add' && verb !== 'remove') || !host) throw new XepaError('ERR_BAD_REQUEST', RESCUE_USAGE);
  if (verb === 'remove') {
    if (!(await removeRescueHost(file, host))) throw new XepaError('ERR_NOT_FOUND', `${host} is not registered for a rescue boot`);
    line(o.out, `removed ${host}: its iPXE script and apkovl are no longer served`);
    return 0;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(host)) throw new XepaError('ERR_BAD_REQUEST', `HOST ${host}: a host name (letters, digits, . _ -)`);
  const publicUrl = values['public-url'].replace(/\/+$/, '');
  const base = values['netboot-base'].replace(/\/+$/, '');
  const { entry, token } = await addRescueHost(file, {
    host,
    agentId: values['agent-id'] ?? `xepa-${host}`.slice(0, 64),
    ttlSeconds: deadlineOf(values.ttl),
    netboot: { kernelUrl: `${base}/vmlinuz-lts`, initrdUrl: `${base}/initramfs-lts`, modloopUrl: `${base}/modloop-lts`, alpineRepo: values['alpine-repo'] },
    ...(values.console ? { consoles: values.console } : {}),
  });
  line(o.out, `registered ${host} as agent ${entry.agentId}; its rescue boot is served until ${entry.expiresAt}`);
  line(o.out, `chain:  ${publicUrl}${rescuePaths(host).ipxe}`);
  line(o.out, `token:  ${token} (inside the apkovl; spent by the agent's first enrolment)`);
  line(o.out, `needs:  xepa serve --public-url ${publicUrl} running, reachable from ${host}`);
  return 0;
}
