import { XepaError } from '../../agent/protocol/index.js';

/** Where to inject: ssh://user@host:port. */
export interface SshTarget {
  user: string;
  host: string; // without brackets for IPv6
  port: number;
}

// Parses ssh://[user@]host[:port] (user defaults to root, port to 22; IPv6 in brackets).
export function parseSshTarget(text: string | undefined): SshTarget {
  if (!text) throw new XepaError('ERR_BAD_REQUEST', 'where? give ssh://root@HOST[:port]');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `ssh://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new XepaError('ERR_BAD_REQUEST', `not an SSH target: ${text} (expected ssh://root@HOST[:port])`);
  }
  if (u.protocol !== 'ssh:') throw new XepaError('ERR_BAD_REQUEST', `injection goes over ssh://, not ${u.protocol}//`);
  if (u.password) throw new XepaError('ERR_BAD_REQUEST', 'no passwords in the target: use a key or ssh-agent');
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash) throw new XepaError('ERR_BAD_REQUEST', `unexpected path in SSH target ${text}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new XepaError('ERR_BAD_REQUEST', `no host in SSH target ${text}`);
  return { user: decodeURIComponent(u.username) || 'root', host, port: u.port ? Number(u.port) : 22 };
}

// The target back as a URL (for messages and the registry).
export function formatSshTarget(t: SshTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `ssh://${t.user}@${host}${t.port === 22 ? '' : `:${t.port}`}`;
}
