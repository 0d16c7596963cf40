import { RESCUE_PATHS, SERVICE_NAME, openrcConfd, openrcInitScript, systemdUnit } from '../../alpine/index.js';
import { ensureRemoteFile, remoteFileState, type StepChange } from './remote-files.js';
import { runRemote, shq, type RemoteShell } from './remote-shell.js';

/** The init system that runs the agent; 'none' is a plain background process with a pid file. */
export type InitKind = 'openrc' | 'systemd' | 'none';

/** What a service step did. */
export interface ServiceStep {
  change: StepChange | 'skipped';
  detail: string;
}

const P = RESCUE_PATHS;

// Installs the service files for the init system and enables the service at boot.
export async function installService(shell: RemoteShell, init: InitKind): Promise<ServiceStep> {
  if (init === 'openrc') {
    const changes: string[] = [];
    if ((await ensureRemoteFile(shell, P.openrcScript, openrcInitScript(), 0o755)) === 'changed') changes.push(P.openrcScript);
    // conf.d holds the operator's settings: written once, never overwritten.
    if (!(await remoteFileState(shell, P.openrcConf))) {
      await ensureRemoteFile(shell, P.openrcConf, openrcConfd(), 0o644);
      changes.push(P.openrcConf);
    }
    const added = await runRemote(shell, 'enabling the OpenRC service', `[ -L ${P.openrcRunlevelLink} ] || { rc-update add ${SERVICE_NAME} default >/dev/null && echo added; }`);
    if (added.trim() === 'added') changes.push('runlevel default');
    return changes.length ? { change: 'changed', detail: `OpenRC: ${changes.join(', ')}` } : { change: 'unchanged', detail: 'OpenRC service installed and in runlevel default' };
  }
  if (init === 'systemd') {
    const changes: string[] = [];
    if ((await ensureRemoteFile(shell, P.systemdUnit, systemdUnit(), 0o644)) === 'changed') {
      await runRemote(shell, 'systemctl daemon-reload', 'systemctl daemon-reload');
      changes.push(P.systemdUnit);
    }
    const enabled = await runRemote(shell, 'enabling the systemd unit', `systemctl is-enabled --quiet ${SERVICE_NAME} || { systemctl enable --quiet ${SERVICE_NAME} && echo enabled; }`);
    if (enabled.trim() === 'enabled') changes.push('enabled');
    return changes.length ? { change: 'changed', detail: `systemd: ${changes.join(', ')}` } : { change: 'unchanged', detail: 'systemd unit installed and enabled' };
  }
  return {
    change: 'skipped',
    detail: `no init system is running (a container or chroot?): the agent runs as a plain background process (pid file ${P.plainPidFile}, log ${P.log}); it is not restarted after a crash and not started at boot`,
  };
}

// Is the plain background agent alive? A zombie or a reused pid has another (or an empty) command line.
const PLAIN_RUNNING = `p=$(cat ${P.plainPidFile} 2>/dev/null) || exit 1
[ -n "$p" ] && kill -0 "$p" 2>/dev/null || exit 1
if [ -r /proc/$p/cmdline ]; then tr '\\0' ' ' < /proc/$p/cmdline | grep -q ${shq(P.bundle)} || exit 1; fi
exit 0`;

const PLAIN_START = `mkdir -p ${shq(P.stateDir)} $(dirname ${shq(P.log)})
cd /
setsid sh -c 'echo $$ > ${P.plainPidFile}; exec ${P.node} ${P.bundle} --config ${P.config}' >> ${shq(P.log)} 2>&1 < /dev/null &
i=0; while [ ! -s ${P.plainPidFile} ] && [ $i -lt 50 ]; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done`;

// SIGTERM (the agent restores devices), up to 60 s, then SIGKILL.
const PLAIN_STOP = `p=$(cat ${P.plainPidFile} 2>/dev/null) || exit 0
kill -TERM "$p" 2>/dev/null || { rm -f ${P.plainPidFile}; exit 0; }
i=0
while [ $i -lt 60 ]; do
  kill -0 "$p" 2>/dev/null || break
  if [ -r /proc/$p/stat ] && [ "$(cut -d' ' -f3 /proc/$p/stat)" = Z ]; then break; fi
  sleep 1; i=$((i+1))
done
if [ $i -ge 60 ]; then kill -KILL "$p" 2>/dev/null; fi
rm -f ${P.plainPidFile}`;

// Is the agent service running?
export async function serviceRunning(shell: RemoteShell, init: InitKind): Promise<boolean> {
  const script =
    init === 'openrc' ? `rc-service ${SERVICE_NAME} status >/dev/null 2>&1` : init === 'systemd' ? `systemctl is-active --quiet ${SERVICE_NAME}` : PLAIN_RUNNING;
  return (await shell.exec(script)).code === 0;
}

// Starts the agent, or restarts it when `restart` (a new bundle, config or service file).
export async function startService(shell: RemoteShell, init: InitKind, restart: boolean): Promise<void> {
  const verb = restart ? 'restart' : 'start';
  if (init === 'openrc') return void (await runRemote(shell, `rc-service ${SERVICE_NAME} ${verb}`, `rc-service ${SERVICE_NAME} ${verb}`));
  if (init === 'systemd') return void (await runRemote(shell, `systemctl ${verb} ${SERVICE_NAME}`, `systemctl ${verb} ${SERVICE_NAME}`));
  if (restart) await runRemote(shell, 'stopping the agent', PLAIN_STOP);
  await runRemote(shell, 'starting the agent', PLAIN_START);
}
