import { XepaError } from '../../agent/protocol/index.js';
import { RESCUE_PATHS } from '../../alpine/index.js';
import { runRemote, type RemoteShell } from './remote-shell.js';

/** What injection needs to know about the rescue system. */
export interface RemoteFacts {
  uid: number;
  osId: string; // os-release ID ("alpine", "debian", "" when unknown)
  osLike: string; // os-release ID_LIKE
  osName: string; // PRETTY_NAME
  packageManager: 'apk' | 'apt' | 'none';
  otherPackageManager?: string; // dnf, zypper ... when that is all there is
  init: 'openrc' | 'systemd' | 'none'; // the init system actually running (not merely installed)
  nodeVersion?: string; // "v18.19.0" when node is installed
  freeBytes?: number; // free space where the bundle goes (unknown when statfs is unavailable)
  hostname: string;
}

// One script, one round trip: prints key=value lines. systemd runs when /run/systemd/system exists (what
// sd_booted() checks); OpenRC runs when it has recorded a runlevel in /run/openrc/softlevel.
export const FACTS_SCRIPT = `
echo "uid=$(id -u)"
if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "os_id=\${ID:-}"
echo "os_like=\${ID_LIKE:-}"
echo "os_name=\${PRETTY_NAME:-}"
if command -v apk >/dev/null 2>&1; then echo pm=apk
elif command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then echo pm=apt
else
  echo pm=none
  for p in dnf yum zypper pacman; do if command -v $p >/dev/null 2>&1; then echo "pm_other=$p"; break; fi; done
fi
if [ -d /run/systemd/system ]; then echo init=systemd
elif [ -e /run/openrc/softlevel ] && command -v rc-service >/dev/null 2>&1; then echo init=openrc
else echo init=none; fi
echo "node=$(node --version 2>/dev/null)"
d=${RESCUE_PATHS.bundleDir}
while [ ! -d "$d" ]; do d=$(dirname "$d"); done
echo "free=$(stat -f -c '%a %S' "$d" 2>/dev/null)"
echo "hostname=$(cat /proc/sys/kernel/hostname 2>/dev/null || hostname 2>/dev/null || cat /etc/hostname 2>/dev/null)"
`;

// Parses FACTS_SCRIPT's output.
export function parseFacts(text: string): RemoteFacts {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const uid = Number(kv.get('uid'));
  if (!Number.isInteger(uid)) throw new XepaError('ERR_REMOTE_COMMAND', 'the rescue system did not say which user we are (id -u)');
  const pm = kv.get('pm');
  const init = kv.get('init');
  const [avail, bsize] = (kv.get('free') ?? '').split(/\s+/).map(Number);
  const facts: RemoteFacts = {
    uid,
    osId: kv.get('os_id') ?? '',
    osLike: kv.get('os_like') ?? '',
    osName: kv.get('os_name') ?? '',
    packageManager: pm === 'apk' || pm === 'apt' ? pm : 'none',
    init: init === 'openrc' || init === 'systemd' ? init : 'none',
    hostname: kv.get('hostname') ?? '',
  };
  if (kv.get('pm_other')) facts.otherPackageManager = kv.get('pm_other')!;
  if (kv.get('node')) facts.nodeVersion = kv.get('node')!;
  if (Number.isFinite(avail) && Number.isFinite(bsize) && bsize! > 0) facts.freeBytes = avail! * bsize!;
  return facts;
}

// Reads the facts of the rescue system.
export async function readRemoteFacts(shell: RemoteShell): Promise<RemoteFacts> {
  return parseFacts(await runRemote(shell, 'probing the system', FACTS_SCRIPT));
}

const KNOWN = ['alpine', 'debian', 'ubuntu'];

// Refuses what injection cannot handle: not root, an unsupported distribution, no package manager.
export function checkFacts(f: RemoteFacts, where: string): void {
  if (f.uid !== 0) {
    throw new XepaError('ERR_NOT_ROOT', `${where}: logged in as uid ${f.uid}, but installing the agent needs root (log in as root: ssh://root@...)`);
  }
  if (f.packageManager !== 'none') return;
  const name = f.osName || f.osId || 'an unknown system';
  if (f.otherPackageManager || (f.osId && !KNOWN.includes(f.osId) && !KNOWN.some((k) => f.osLike.split(/\s+/).includes(k)))) {
    throw new XepaError('ERR_UNSUPPORTED_DISTRO', `${where} runs ${name}${f.otherPackageManager ? ` (${f.otherPackageManager})` : ''}: injection supports Alpine (apk) and Debian-based (apt) rescue systems`, {
      details: { osId: f.osId, packageManager: f.otherPackageManager ?? null },
    });
  }
  throw new XepaError('ERR_NO_PACKAGE_MANAGER', `${where} runs ${name} but has neither apk nor apt-get/dpkg-query: cannot install the agent's packages there`, {
    details: { osId: f.osId },
  });
}

// "Debian GNU/Linux 12 (bookworm), apt, init systemd, 3.1 GiB free" for the report.
export function describeFacts(f: RemoteFacts): string {
  const free = f.freeBytes === undefined ? 'free space unknown' : `${(f.freeBytes / 2 ** 30).toFixed(1)} GiB free`;
  const init = f.init === 'none' ? 'no init system running' : `init ${f.init}`;
  return `${f.osName || f.osId || 'unknown system'} (${f.hostname || 'no hostname'}), ${f.packageManager}, ${init}, ${free}`;
}
