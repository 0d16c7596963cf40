// The real Debian installer as test media, cached: what the archive publishes (InRelease, SHA256SUMS, through apt)
// and the netboot files of the Debian package debian-installer-12-netboot-amd64.
export { ensureDebianUpstream, aptUpdateArgs, type DebianUpstream, type DebianUpstreamOptions } from './upstream.js';
export { ensureNetbootPackage, NETBOOT_PACKAGE, NETBOOT_TREE, type NetbootPackage, type NetbootPackageOptions } from './package.js';
