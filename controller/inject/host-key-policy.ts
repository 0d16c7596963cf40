import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isENOENT } from '../../agent/protocol/index.js';
import {
  checkKnownHosts,
  knownHostsLine,
  knownHostsName,
  normalizeSshFingerprint,
  parseKnownHosts,
  sshKeyFingerprint,
} from './host-keys.js';

/** How the rescue system's SSH host key is verified before anything is sent to it. */
export interface HostKeyPolicy {
  fingerprints: readonly string[]; // --host-key SHA256:...: when given, only these are accepted
  knownHostsFiles: readonly string[]; // read in order; missing files are fine
  acceptNew: boolean; // trust on first use: accept an unknown (never a changed) key and record it
  recordFile: string; // where an accepted new key is appended
}

/** The verdict on one presented host key. */
export interface HostKeyDecision {
  ok: boolean;
  fingerprint: string; // SHA256:... of the presented key
  how?: 'fingerprint' | 'known_hosts' | 'accepted-new';
  reason?: string; // why it was refused
  recordLine?: string; // known_hosts line to append once the connection is up (accepted-new only)
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isENOENT(err)) return '';
    throw err;
  }
}

// Decides whether to trust the host key `blob` presented by host:port under the policy.
export async function decideHostKey(policy: HostKeyPolicy, host: string, port: number, blob: Buffer): Promise<HostKeyDecision> {
  const fingerprint = sshKeyFingerprint(blob);
  if (policy.fingerprints.length > 0) {
    const wanted = policy.fingerprints.map(normalizeSshFingerprint);
    if (wanted.includes(fingerprint)) return { ok: true, fingerprint, how: 'fingerprint' };
    return { ok: false, fingerprint, reason: `it presented host key ${fingerprint}, not the expected ${wanted.join(' or ')}` };
  }
  const name = knownHostsName(host, port);
  const lines = (await Promise.all(policy.knownHostsFiles.map(readOptional))).flatMap(parseKnownHosts);
  const verdict = checkKnownHosts(lines, name, blob);
  const files = policy.knownHostsFiles.join(', ') || '(no known_hosts files)';
  switch (verdict) {
    case 'match':
      return { ok: true, fingerprint, how: 'known_hosts' };
    case 'revoked':
      return { ok: false, fingerprint, reason: `its host key ${fingerprint} is marked @revoked in ${files}` };
    case 'mismatch':
      return {
        ok: false,
        fingerprint,
        reason: `its host key ${fingerprint} differs from the one recorded for ${name} in ${files} (a reinstalled rescue system gets a new key: remove the old line, e.g. ssh-keygen -R '${name}' -f FILE, after checking the new fingerprint out of band)`,
      };
    case 'unknown':
      if (policy.acceptNew) return { ok: true, fingerprint, how: 'accepted-new', recordLine: knownHostsLine(name, blob) };
      return {
        ok: false,
        fingerprint,
        reason: `its host key ${fingerprint} is not in ${files}: check it out of band (the provider's console) and pass --host-key ${fingerprint}, or trust it on first use with --accept-new-host-key`,
      };
  }
}

// Appends an accepted host key to the policy's record file (created 0600 with its directory).
export async function recordHostKey(policy: HostKeyPolicy, line: string): Promise<void> {
  await mkdir(dirname(policy.recordFile), { recursive: true, mode: 0o700 });
  await appendFile(policy.recordFile, `${line}\n`, { mode: 0o600 });
}
