import { RESCUE_PATHS, SERVICE_NAME } from './layout.js';

// The systemd unit (/etc/systemd/system/xepa-agent.service) for Debian-based rescue systems such as Hetzner's.
// Restarts on a crash (3 s apart, growing to 60 s on systemd >= 254, at most 10 starts in 10 min); stop sends
// SIGTERM and waits up to 60 s while the agent cancels its jobs and restores devices. Output goes to the
// journal, which is the syslog there (`journalctl -u xepa-agent`): node writes straight to it, with no pipe
// whose reader could die first and break the agent's output while it restores devices.
export function systemdUnit(): string {
  return `[Unit]
Description=XEPA agent: installs ISO-only operating systems onto this server's disks
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=600
StartLimitBurst=10

[Service]
Type=simple
# Extra agent flags, e.g. "--log-level debug": systemctl edit ${SERVICE_NAME}
Environment=XEPA_ARGS=
ExecStart=${RESCUE_PATHS.node} ${RESCUE_PATHS.bundle} --config ${RESCUE_PATHS.config} $XEPA_ARGS
Restart=on-failure
RestartSec=3
# Exponential backoff on systemd >= 254 (older versions log that they ignore these two lines).
RestartSteps=5
RestartMaxDelaySec=60
KillSignal=SIGTERM
TimeoutStopSec=60
StandardOutput=journal
StandardError=journal
SyslogIdentifier=${SERVICE_NAME}

[Install]
WantedBy=multi-user.target
`;
}
