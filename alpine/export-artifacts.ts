import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openrcConfd, openrcInitScript } from './openrc-service.js';
import { ALPINE_PACKAGES, DEBIAN_PACKAGES } from './packages.js';
import { systemdUnit } from './systemd-unit.js';

/** One rescue artifact as a plain file. */
export interface RescueArtifact {
  name: string;
  mode: number;
  text: string;
}

// The service files and package lists as plain files, for image builders (the lab's OpenRC rescue image).
export function rescueArtifacts(): RescueArtifact[] {
  return [
    { name: 'xepa-agent.initd', mode: 0o755, text: openrcInitScript() },
    { name: 'xepa-agent.confd', mode: 0o644, text: openrcConfd() },
    { name: 'xepa-agent.service', mode: 0o644, text: systemdUnit() },
    { name: 'packages.alpine', mode: 0o644, text: `${ALPINE_PACKAGES.join('\n')}\n` },
    { name: 'packages.debian', mode: 0o644, text: `${DEBIAN_PACKAGES.join('\n')}\n` },
  ];
}

// Writes rescueArtifacts() into dir (created if needed); returns the paths written.
export async function writeRescueArtifacts(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const a of rescueArtifacts()) {
    const path = join(dir, a.name);
    await writeFile(path, a.text, { mode: a.mode });
    written.push(path);
  }
  return written;
}
