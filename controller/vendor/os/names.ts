// The shapes of every name that reaches a URL or a store path: OS names, versions, file names, hosts, channels.
// They are checked at every edge (module load, upstream answers, HTTP paths), so no name can carry a path.

// An OS module's name: `talos`, `nixos`, `generic`.
export const OS_NAME = /^[a-z][a-z0-9-]{0,31}$/;
// A release version as upstream spells it (`v1.8.0`, `14.1`, `3975.2.0`, a Hydra build id).
export const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,79}$/;
// A file's name inside a release (`vmlinuz`, `initramfs.xz`, `disc1.iso`).
export const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
// A host name for per-host iPXE scripts and configs (a hostname, or a MAC written with dashes).
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

// The channels every OS has: candidate (downloaded, maybe validated), stable (validated), previous (rollback target).
export const CHANNELS = ['stable', 'candidate', 'previous'] as const;
export type Channel = (typeof CHANNELS)[number];

// True when `s` matches `re` and has no `..` (dots are allowed inside names, never as a path step).
export function isSafeName(re: RegExp, s: string): boolean {
  return re.test(s) && !s.includes('..');
}

// True when `s` names a channel rather than a version.
export function isChannel(s: string): s is Channel {
  return (CHANNELS as readonly string[]).includes(s);
}
