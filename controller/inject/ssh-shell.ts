import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, ClientChannel } from 'ssh2';
import { XepaError, isENOENT } from '../../agent/protocol/index.js';
import { decideHostKey, recordHostKey, type HostKeyDecision, type HostKeyPolicy } from './host-key-policy.js';
import { REMOTE_PATH, shq, type ExecResult, type RemoteShell } from './remote-shell.js';
import { formatSshTarget, type SshTarget } from './ssh-target.js';

/** Which credentials to offer: ssh-agent first, then private key files. */
export interface SshAuth {
  identityFiles: readonly string[]; // explicit --identity files; empty: ~/.ssh/id_ed25519, id_ecdsa, id_rsa if present
  agentSocket?: string; // $SSH_AUTH_SOCK
  passphrase?: string; // for encrypted key files
}

/** An open SSH connection used as a remote shell, with how its host key was trusted. */
export interface SshShell extends RemoteShell {
  hostKey: HostKeyDecision;
  offered: string[]; // the credentials offered, for messages
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

async function authMethods(user: string, auth: SshAuth, home: string): Promise<{ methods: AnyAuthMethod[]; offered: string[] }> {
  const methods: AnyAuthMethod[] = [];
  const offered: string[] = [];
  if (auth.agentSocket) {
    methods.push({ type: 'agent', username: user, agent: auth.agentSocket });
    offered.push('ssh-agent');
  }
  const explicit = auth.identityFiles.length > 0;
  const files = explicit ? auth.identityFiles : DEFAULT_KEYS.map((k) => join(home, '.ssh', k));
  for (const file of files) {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (err) {
      if (!explicit && isENOENT(err)) continue;
      throw new XepaError('ERR_SSH_AUTH', `cannot read SSH key ${file}: ${(err as Error).message}`, { cause: err });
    }
    const parsed = ssh2.utils.parseKey(data, auth.passphrase);
    if (parsed instanceof Error) {
      if (explicit) throw new XepaError('ERR_SSH_AUTH', `cannot use SSH key ${file}: ${parsed.message} (load an encrypted key into ssh-agent instead)`);
      continue;
    }
    methods.push({ type: 'publickey', username: user, key: data, ...(auth.passphrase ? { passphrase: auth.passphrase } : {}) });
    offered.push(file);
  }
  if (methods.length === 0) {
    throw new XepaError('ERR_SSH_AUTH', 'no SSH credentials to offer: give --identity FILE, or start ssh-agent (SSH_AUTH_SOCK) with the key loaded');
  }
  return { methods, offered };
}

function execOn(client: ssh2.Client, script: string, stdin: Buffer | string | undefined): Promise<ExecResult> {
  // Always POSIX sh, whatever root's login shell is.
  const command = `sh -c ${shq(`${REMOTE_PATH}\n${script}`)}`;
  return new Promise((resolve, reject) => {
    client.exec(command, (err: Error | undefined, stream: ClientChannel) => {
      if (err) return reject(new XepaError('ERR_REMOTE_COMMAND', `cannot run a command over SSH: ${err.message}`, { cause: err }));
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let code = -1;
      stream.on('data', (c: Buffer) => out.push(c));
      stream.stderr.on('data', (c: Buffer) => errOut.push(c));
      stream.on('exit', (c: number | null) => (code = c ?? -1));
      stream.on('close', () => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(errOut).toString('utf8') }));
      stream.on('error', reject);
      if (stdin !== undefined) stream.end(stdin);
      else stream.end();
    });
  });
}

// Connects to the rescue system: the host key is checked against the policy before authentication (nothing is
// sent to an unverified host), then ssh-agent and key files are offered. ERR_SSH_HOST_KEY, ERR_SSH_AUTH or
// ERR_CONNECT on failure.
export async function openSshShell(o: {
  target: SshTarget;
  auth: SshAuth;
  hostKeys: HostKeyPolicy;
  timeoutMs?: number;
  home?: string;
}): Promise<SshShell> {
  const where = formatSshTarget(o.target);
  const { methods, offered } = await authMethods(o.target.user, o.auth, o.home ?? homedir());
  const client = new ssh2.Client();
  let decision: HostKeyDecision | undefined;
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (err: Error & { level?: string }) => {
      client.end();
      if (decision && !decision.ok) {
        reject(new XepaError('ERR_SSH_HOST_KEY', `refusing ${where}: ${decision.reason}`, { details: { fingerprint: decision.fingerprint } }));
      } else if (err.level === 'client-authentication') {
        reject(new XepaError('ERR_SSH_AUTH', `${where} refused authentication as ${o.target.user} with ${offered.join(', ')}`, { cause: err }));
      } else {
        reject(new XepaError('ERR_CONNECT', `cannot connect to ${where}: ${err.message}`, { cause: err }));
      }
    });
    client.connect({
      host: o.target.host,
      port: o.target.port,
      username: o.target.user,
      authHandler: methods,
      readyTimeout: o.timeoutMs ?? 20_000,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        decideHostKey(o.hostKeys, o.target.host, o.target.port, key).then(
          (d) => {
            decision = d;
            verify(d.ok);
          },
          (err: unknown) => {
            decision = { ok: false, fingerprint: '?', reason: `cannot read known_hosts: ${(err as Error).message}` };
            verify(false);
          },
        );
      },
    });
  });
  const hostKey = decision!;
  if (hostKey.recordLine) await recordHostKey(o.hostKeys, hostKey.recordLine);
  return {
    hostKey,
    offered,
    exec: (script, opts = {}) => execOn(client, script, opts.stdin),
    close: () => client.end(),
  };
}
