import { XepaError } from '../../agent/protocol/index.js';
import { ALPINE_PACKAGES, DEBIAN_PACKAGES } from '../../alpine/index.js';
import { lastLine, runRemote, shq, type RemoteShell } from './remote-shell.js';

/** A package manager the injector drives. */
export type PackageManager = 'apk' | 'apt';

// The agent's packages for a package manager.
export function agentPackages(pm: PackageManager): readonly string[] {
  return pm === 'apk' ? ALPINE_PACKAGES : DEBIAN_PACKAGES;
}

// Prints the installed ones among the arguments, one name per line.
function checkScript(pm: PackageManager, pkgs: readonly string[]): string {
  const names = pkgs.map(shq).join(' ');
  return pm === 'apk'
    ? `apk info -e ${names} 2>/dev/null; true`
    : `dpkg-query -W -f='\${Package} \${db:Status-Abbrev}\\n' ${names} 2>/dev/null | awk '$2 == "ii" { print $1 }'; true`;
}

// The packages of `pkgs` that are not installed.
export async function missingPackages(shell: RemoteShell, pm: PackageManager, pkgs: readonly string[]): Promise<string[]> {
  if (pkgs.length === 0) return [];
  const out = await runRemote(shell, 'checking installed packages', checkScript(pm, pkgs));
  const installed = new Set(out.split('\n').map((l) => l.trim().replace(/:[a-z0-9]+$/, '')).filter(Boolean));
  return pkgs.filter((p) => !installed.has(p));
}

// Alpine keeps QEMU in the community repository, which rescue systems often leave out: add it next to main.
const APK_INSTALL = (names: string) => `
f=/etc/apk/repositories
if [ -f "$f" ] && ! grep -q '/community/\\?$' "$f"; then
  sed -n 's#/main/\\?$#/community#p' "$f" >> "$f"
fi
apk update -q && apk add -q --no-progress ${names}`;

const APT_INSTALL = (names: string) => `
export DEBIAN_FRONTEND=noninteractive
apt-get update -q && apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold ${names}`;

// Installs the packages (refreshing the index first). A failure with little free space is ERR_NO_SPACE,
// otherwise ERR_REMOTE_COMMAND with the package manager's last words.
export async function installPackages(shell: RemoteShell, pm: PackageManager, pkgs: readonly string[], freeBytes?: number): Promise<void> {
  const names = pkgs.map(shq).join(' ');
  const r = await shell.exec(pm === 'apk' ? APK_INSTALL(names) : APT_INSTALL(names));
  if (r.code === 0) return;
  const why = lastLine(r.stderr || r.stdout.toString('utf8'));
  if (freeBytes !== undefined && freeBytes < 512 * 2 ** 20) {
    throw new XepaError('ERR_NO_SPACE', `installing ${pkgs.join(' ')} failed with only ${(freeBytes / 2 ** 20).toFixed(0)} MiB free on the rescue system: ${why}`, {
      details: { freeBytes, exitCode: r.code },
    });
  }
  throw new XepaError('ERR_REMOTE_COMMAND', `${pm === 'apk' ? 'apk add' : 'apt-get install'} ${pkgs.join(' ')} failed (exit ${r.code}): ${why}`, {
    details: { exitCode: r.code, stderr: r.stderr.slice(-2000) },
  });
}
