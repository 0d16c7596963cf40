// Where XEPA puts the agent on a rescue system: one layout shared by the apkovl, the service files and `xepa inject`.
export const RESCUE_PATHS = {
  // The agent bundle: one .mjs file run by the system's node.
  bundle: '/usr/local/lib/xepa/xepa-agent.mjs',
  bundleDir: '/usr/local/lib/xepa',
  // The agent configuration (trusted controller keys, agent id, listen port); mode 0600.
  config: '/etc/xepa/agent.json',
  configDir: '/etc/xepa',
  // OpenRC service script, its settings, and the runlevel link that starts it at boot.
  openrcScript: '/etc/init.d/xepa-agent',
  openrcConf: '/etc/conf.d/xepa-agent',
  openrcRunlevelLink: '/etc/runlevels/default/xepa-agent',
  // systemd unit (Debian rescue systems).
  systemdUnit: '/etc/systemd/system/xepa-agent.service',
  // Plain background start (no init system running): pid file of the agent process.
  plainPidFile: '/run/xepa-agent.pid',
  // Agent log (stdout and stderr, JSON lines); OpenRC also copies it to syslog.
  log: '/var/log/xepa-agent.log',
  // Agent state (TLS identity, jobs, device journal): RAM on a rescue system.
  stateDir: '/run/xepa',
  // The agent's TLS certificate inside the state directory (its SHA-256 is the pinned fingerprint).
  tlsCert: '/run/xepa/tls-cert.pem',
  // The node binary both distributions install.
  node: '/usr/bin/node',
} as const;

// The service's name in OpenRC and systemd.
export const SERVICE_NAME = 'xepa-agent';

// The agent's default HTTPS/WebSocket port.
export const DEFAULT_AGENT_PORT = 7443;
