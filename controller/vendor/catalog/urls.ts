// The URLs Vendor Services hands out: one place, so the catalog, iPXE scripts and command lines agree.

// The URL of a release file on the vendor server (what iPXE scripts, command lines and the catalog point at).
export function fileUrl(base: string, os: string, version: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/vendor/v1/files/${os}/${encodeURIComponent(version)}/${encodeURIComponent(name)}`;
}

// The URL of a release's iPXE script (a host may be added as ?host=NAME).
export function ipxeUrl(base: string, os: string, ref: string): string {
  return `${base.replace(/\/+$/, '')}/vendor/v1/ipxe/${os}/${encodeURIComponent(ref)}`;
}

// The URL of a host's config file for an OS.
export function configUrl(base: string, os: string, host: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/vendor/v1/config/${os}/${host}/${name}`;
}
