import { RESCUE_PATHS, SERVICE_NAME } from './layout.js';

// The OpenRC service script (/etc/init.d/xepa-agent) for Alpine rescue systems and the lab's OpenRC image.
// supervise-daemon keeps the agent running: on a crash it waits respawn_delay seconds and starts it again, at
// most respawn_max times per respawn_period (then it gives up and the service shows as crashed, so a crash
// loop does not spin forever). `rc-service xepa-agent stop` sends SIGTERM and waits up to 60 s: the agent
// cancels its jobs and gives every device back to its host driver before it exits.
export function openrcInitScript(): string {
  return `#!/sbin/openrc-run
# ${SERVICE_NAME}: the XEPA agent, which runs ISO installers in QEMU on this server's disks.
# Settings: /etc/conf.d/${SERVICE_NAME}. Log: ${RESCUE_PATHS.log} and syslog (tag ${SERVICE_NAME}).

name="${SERVICE_NAME}"
description="XEPA agent: installs ISO-only operating systems onto this server's disks"

: "\${XEPA_NODE:=${RESCUE_PATHS.node}}"
: "\${XEPA_BUNDLE:=${RESCUE_PATHS.bundle}}"
: "\${XEPA_CONFIG:=${RESCUE_PATHS.config}}"
: "\${XEPA_LOG:=${RESCUE_PATHS.log}}"
: "\${respawn_delay:=3}"
: "\${respawn_max:=10}"
: "\${respawn_period:=600}"

supervisor="supervise-daemon"
command="\${XEPA_NODE}"
command_args="\${XEPA_BUNDLE} --config \${XEPA_CONFIG} \${XEPA_ARGS}"
pidfile="/run/\${RC_SVCNAME}.pid"
# Every output line goes to the log file and to syslog (OpenRC runs the logger with /bin/sh -c).
output_logger="tee -a \${XEPA_LOG} | logger -t \${RC_SVCNAME} -p daemon.info"
error_logger="tee -a \${XEPA_LOG} | logger -t \${RC_SVCNAME} -p daemon.err"
# SIGTERM, then up to 60 s for the agent to restore devices, then SIGKILL.
retry="TERM/60/KILL/5"

depend() {
\tuse net logger
\tafter firewall networking
}

start_pre() {
\tif [ ! -r "\${XEPA_CONFIG}" ]; then
\t\teerror "\${XEPA_CONFIG} is missing: the agent needs its configuration (trusted controller keys)"
\t\treturn 1
\tfi
\tif [ ! -r "\${XEPA_BUNDLE}" ]; then
\t\teerror "\${XEPA_BUNDLE} is missing"
\t\treturn 1
\tfi
\t# Older OpenRC (Debian 12's 0.45) cannot pipe output to a logger: keep the log file there, without syslog.
\tif ! grep -qs -- 'stdout-logger' "\${RC_LIBEXECDIR}/sh/supervise-daemon.sh"; then
\t\toutput_log="\${XEPA_LOG}"
\t\terror_log="\${XEPA_LOG}"
\tfi
\tcheckpath -d -m 0700 -o root:root ${RESCUE_PATHS.stateDir}
\tcheckpath -f -m 0640 -o root:root "\${XEPA_LOG}"
}
`;
}

// /etc/conf.d/xepa-agent: the settings an operator may change without touching the script.
export function openrcConfd(): string {
  return `# Settings of the ${SERVICE_NAME} OpenRC service.

# Extra agent flags, e.g. "--log-level debug" or "--accel tcg".
#XEPA_ARGS=""

# Agent configuration, bundle and log.
#XEPA_CONFIG="${RESCUE_PATHS.config}"
#XEPA_BUNDLE="${RESCUE_PATHS.bundle}"
#XEPA_LOG="${RESCUE_PATHS.log}"

# Crash handling by supervise-daemon: wait respawn_delay seconds before a restart, give up after
# respawn_max restarts within respawn_period seconds.
#respawn_delay=3
#respawn_max=10
#respawn_period=600
`;
}
