import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESCUE_PATHS, openrcConfd, openrcInitScript, rescueArtifacts, systemdUnit, writeRescueArtifacts } from '../../../alpine/index.js';

const dir = mkdtempSync(join(tmpdir(), 'xepa-svc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the rescue service files', () => {
  it('OpenRC script parses under dash and busybox ash', () => {
    const file = join(dir, 'initd');
    writeFileSync(file, openrcInitScript());
    execFileSync('dash', ['-n', file]);
    execFileSync('busybox', ['sh', '-n', file]);
    expect(openrcInitScript().startsWith('#!/sbin/openrc-run\n')).toBe(true);
  });

  it('OpenRC script runs the bundle under supervise-daemon with respawn limits, file+syslog logging and a TERM grace period', () => {
    const s = openrcInitScript();
    expect(s).toMatch(/^supervisor="supervise-daemon"$/m);
    expect(s).toContain(`XEPA_BUNDLE:=${RESCUE_PATHS.bundle}`);
    expect(s).toContain(`XEPA_CONFIG:=${RESCUE_PATHS.config}`);
    expect(s).toMatch(/respawn_delay:=\d+/);
    expect(s).toMatch(/respawn_max:=\d+/);
    expect(s).toMatch(/respawn_period:=\d+/);
    expect(s).toMatch(/^output_logger=".*tee -a .*logger -t/m);
    expect(s).toMatch(/^retry="TERM\/60\/KILL\/5"$/m);
    expect(s).toMatch(/depend\(\) \{\n\tuse net logger\n\tafter firewall networking\n\}/);
  });

  it('conf.d only holds commented defaults (an operator file, never required)', () => {
    const active = openrcConfd().split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(active).toEqual([]);
  });

  it('systemd unit restarts on failure, stops with SIGTERM and a 60 s grace, starts after the network', () => {
    const u = systemdUnit();
    expect(u).toContain(`ExecStart=${RESCUE_PATHS.node} ${RESCUE_PATHS.bundle} --config ${RESCUE_PATHS.config} $XEPA_ARGS`);
    expect(u).toMatch(/^Restart=on-failure$/m);
    expect(u).toMatch(/^KillSignal=SIGTERM$/m);
    expect(u).toMatch(/^TimeoutStopSec=60$/m);
    expect(u).toMatch(/^After=network-online.target$/m);
    expect(u).toMatch(/^WantedBy=multi-user.target$/m);
  });

  it('exports the artifacts as plain files for image builders', async () => {
    const written = await writeRescueArtifacts(join(dir, 'out'));
    expect(written.map((p) => p.slice(join(dir, 'out').length + 1)).sort()).toEqual(rescueArtifacts().map((a) => a.name).sort());
    expect(readFileSync(join(dir, 'out', 'xepa-agent.initd'), 'utf8')).toBe(openrcInitScript());
    expect(statSync(join(dir, 'out', 'xepa-agent.initd')).mode & 0o777).toBe(0o755);
  });
});
