// iPXE scripts for kernel+initrd OSes, rendered per release and per host. The script names the exact version's
// files (a channel is resolved when the script is made), so a promotion during a boot never mixes releases.
import { renderCmdline } from '../os/cmdline.js';
import type { OsModule } from '../os/schema.js';
import type { Release } from '../store/release-index.js';
import { fileUrl } from '../catalog/urls.js';

// What one script needs.
export interface IpxeContext {
  base: string;
  ref: string; // what was asked for (a channel or the version)
  host?: string | undefined;
  configUrl?: string | undefined;
  upstreamScript?: string | undefined;
}

// The script: kernel with its arguments, each initrd by name (initrd= lets UEFI kernels find them), boot.
export function renderIpxeScript(m: OsModule, r: Release, c: IpxeContext): string {
  if (m.boot.method !== 'kernel-initrd') return '';
  const url = (name: string): string => fileUrl(c.base, m.name, r.version, name);
  const cmdline = renderCmdline(m, { version: r.version, fileUrl: url, configUrl: c.configUrl, host: c.host, upstreamScript: c.upstreamScript });
  const initrdArgs = m.boot.initrds.map((n) => `initrd=${n}`).join(' ');
  const lines = [
    '#!ipxe',
    `# XEPA Vendor Services: ${m.title} ${r.version} (asked for ${c.ref})${c.host ? ` for host ${c.host}` : ''}`,
    ...(c.host && !c.configUrl && m.boot.configName ? [`# no ${m.boot.configName} stored for host ${c.host}: booting without one`] : []),
    `kernel ${url(m.boot.kernel)} ${initrdArgs} ${cmdline}`.trimEnd(),
    ...m.boot.initrds.map((n) => `initrd --name ${n} ${url(n)}`),
    'boot',
    '',
  ];
  return lines.join('\n');
}
