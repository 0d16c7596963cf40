import { renderAgentConfig, type RescueAgentConfig } from './agent-config-file.js';
import { RESCUE_PATHS } from './layout.js';
import { openrcConfd, openrcInitScript } from './openrc-service.js';
import { ALPINE_BASE_WORLD, ALPINE_PACKAGES } from './packages.js';
import { gzipDeterministic } from './gzip.js';
import { writeTar, type TarEntry, type TarOptions } from './tar-writer.js';

/** What goes into an apkovl for one server's rescue boot. */
export interface ApkovlInput {
  agentBundle: Buffer | string; // dist/xepa-agent.mjs
  agentConfig: RescueAgentConfig; // agent id, trusted controller key(s), listen port
  extraPackages?: readonly string[]; // added to /etc/apk/world besides ALPINE_PACKAGES
  hostname?: string; // default "xepa-rescue"
  network?: 'dhcp' | 'none'; // /etc/network/interfaces with DHCP on eth0 (default), or leave networking alone
  sshAuthorizedKeys?: readonly string[]; // root's authorized_keys; adds openssh and starts sshd
  repositories?: readonly string[]; // /etc/apk/repositories (default: set at boot from alpine_repo=)
}

const rel = (abs: string): string => abs.replace(/^\/+/, '');

function interfaces(): string {
  return 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n';
}

// The overlay's members: the agent, its config and OpenRC service with its runlevel link, /etc/apk/world, and
// etc/.default_boot_services, which tells Alpine's initramfs to enable its usual boot services (devfs, mdev,
// hwdrivers, modloop, syslog ...) as it does without an overlay.
export function apkovlEntries(input: ApkovlInput): TarEntry[] {
  const world = new Set<string>([...ALPINE_BASE_WORLD, ...ALPINE_PACKAGES, ...(input.extraPackages ?? [])]);
  const ssh = (input.sshAuthorizedKeys ?? []).length > 0;
  if (ssh) world.add('openssh');
  const files: TarEntry[] = [
    { type: 'file', path: 'etc/.default_boot_services', mode: 0o644, data: '' },
    { type: 'file', path: 'etc/apk/world', mode: 0o644, data: `${[...world].sort().join('\n')}\n` },
    { type: 'file', path: 'etc/hostname', mode: 0o644, data: `${input.hostname ?? 'xepa-rescue'}\n` },
    { type: 'file', path: rel(RESCUE_PATHS.openrcScript), mode: 0o755, data: openrcInitScript() },
    { type: 'file', path: rel(RESCUE_PATHS.openrcConf), mode: 0o644, data: openrcConfd() },
    { type: 'symlink', path: rel(RESCUE_PATHS.openrcRunlevelLink), target: RESCUE_PATHS.openrcScript },
    { type: 'file', path: rel(RESCUE_PATHS.config), mode: 0o600, data: renderAgentConfig(input.agentConfig) },
    { type: 'file', path: rel(RESCUE_PATHS.bundle), mode: 0o644, data: input.agentBundle },
  ];
  if ((input.network ?? 'dhcp') === 'dhcp') {
    files.push({ type: 'file', path: 'etc/network/interfaces', mode: 0o644, data: interfaces() });
    files.push({ type: 'symlink', path: 'etc/runlevels/boot/networking', target: '/etc/init.d/networking' });
  }
  if (input.repositories?.length) {
    files.push({ type: 'file', path: 'etc/apk/repositories', mode: 0o644, data: `${input.repositories.join('\n')}\n` });
  }
  if (ssh) {
    files.push({ type: 'file', path: 'root/.ssh/authorized_keys', mode: 0o600, data: `${input.sshAuthorizedKeys!.join('\n')}\n` });
    files.push({ type: 'symlink', path: 'etc/runlevels/default/sshd', target: '/etc/init.d/sshd' });
  }
  return withParentDirs(files);
}

// Every parent directory as its own member with an explicit mode (root's home and .ssh private).
function withParentDirs(entries: TarEntry[]): TarEntry[] {
  const dirs = new Map<string, number>();
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      dirs.set(dir, dir === 'root' || dir === 'root/.ssh' || dir === rel(RESCUE_PATHS.configDir) ? 0o700 : 0o755);
    }
  }
  return [...entries, ...[...dirs].map(([path, mode]): TarEntry => ({ type: 'dir', path, mode }))];
}

// The apkovl (a .tar.gz overlay that Alpine's initramfs extracts over / at boot): same input, same bytes.
export function buildApkovl(input: ApkovlInput, opts: TarOptions = {}): Buffer {
  return gzipDeterministic(writeTar(apkovlEntries(input), opts));
}
