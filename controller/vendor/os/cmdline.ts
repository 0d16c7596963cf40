// The kernel command line of a kernel+initrd OS for one boot: the module's template with file URLs, the host's
// config URL and name filled in, plus arguments taken from an upstream iPXE script (NixOS's init=).
import type { OsModule } from './schema.js';
import { baseVars, expandTemplate, versionVars } from './templates.js';

// What one rendering knows.
export interface CmdlineContext {
  version: string;
  fileUrl: (name: string) => string; // the URL a booting host fetches a release file from
  configUrl?: string | undefined; // the host's config, when there is one
  host?: string | undefined;
  upstreamScript?: string | undefined; // text of boot.cmdlineFromFile
}

// The arguments of the `kernel` line of an iPXE script, minus initrd= and iPXE ${variables}.
export function kernelArgsFromIpxe(script: string): string[] {
  const line = script.split(/\r?\n/).map((l) => l.trim()).find((l) => /^(kernel|chain)\s/.test(l));
  if (!line) return [];
  return line.split(/\s+/).slice(2).filter((t) => !t.startsWith('initrd=') && !t.includes('${') && !t.startsWith('--'));
}

// Renders the command line; optional `[[ ]]` parts vanish when the host or config is unknown.
export function renderCmdline(m: OsModule, c: CmdlineContext): string {
  if (m.boot.method !== 'kernel-initrd') return '';
  const vars: Record<string, string | undefined> = {
    ...baseVars(m.upstream.bases),
    ...versionVars(c.version),
    config: c.configUrl,
    host: c.host,
  };
  for (const f of m.files) vars[`file:${f.name}`] = c.fileUrl(f.name);
  const own = expandTemplate(m.boot.cmdline, vars, `${m.name} cmdline`);
  const fromUpstream = c.upstreamScript ? kernelArgsFromIpxe(c.upstreamScript).join(' ') : '';
  return [fromUpstream, own].filter(Boolean).join(' ');
}
