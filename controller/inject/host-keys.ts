import { createHash, createHmac } from 'node:crypto';

/** One usable line of an OpenSSH known_hosts file. */
export interface KnownHostLine {
  marker?: 'revoked' | 'cert-authority';
  hosts: string; // comma-separated patterns, or a hashed |1|salt|hash entry
  keyType: string;
  key: Buffer; // the public key blob
}

// OpenSSH's SHA256 fingerprint of a host key blob: "SHA256:" + unpadded base64 (what ssh-keygen -l prints).
export function sshKeyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

// Normalises a fingerprint given by a person ("SHA256:abc", "abc=", "sha256:abc") for comparison.
export function normalizeSshFingerprint(text: string): string {
  const body = text.trim().replace(/^sha256:/i, '').replace(/=+$/, '');
  return `SHA256:${body}`;
}

// The key type named inside a key blob ("ssh-ed25519", "ecdsa-sha2-nistp256" ...).
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

// How known_hosts names a host: plain for port 22, "[host]:port" otherwise.
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

// Parses known_hosts text; comments, blank and malformed lines are skipped.
export function parseKnownHosts(text: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) continue;
    let marker: KnownHostLine['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) continue;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0) continue;
    out.push({ ...(marker ? { marker } : {}), hosts, keyType, key });
  }
  return out;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

// Does a known_hosts host field name `name`? Handles hashed entries, wildcards and negation like OpenSSH.
export function hostsFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const p of hosts.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) {
      matched = true;
    }
  }
  return matched;
}

/** What known_hosts says about a host's key. */
export type KnownHostVerdict = 'match' | 'mismatch' | 'revoked' | 'unknown';

// Checks a presented host key against known_hosts lines: a revoked key is refused wherever it appears; a host
// listed with other keys only is a mismatch (the "REMOTE HOST IDENTIFICATION HAS CHANGED" case).
export function checkKnownHosts(lines: readonly KnownHostLine[], name: string, blob: Buffer): KnownHostVerdict {
  if (lines.some((l) => l.marker === 'revoked' && l.key.equals(blob))) return 'revoked';
  const forHost = lines.filter((l) => l.marker === undefined && hostsFieldMatches(l.hosts, name));
  if (forHost.some((l) => l.key.equals(blob))) return 'match';
  return forHost.length > 0 ? 'mismatch' : 'unknown';
}

// The known_hosts line that records a host key.
export function knownHostsLine(name: string, blob: Buffer): string {
  return `${name} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}
