import { MAX_TOKEN_LIFETIME_SECONDS, SCOPES, XepaError, type Scope } from '../../../agent/protocol/index.js';
import { defaultControllerDir, generateControllerKeys, loadControllerKey, mintToken } from '../../auth/index.js';
import { parse } from '../args.js';
import { line, type Output } from '../output.js';

export const KEYGEN_USAGE = `usage: xepa keygen [--key-dir DIR] [--force]
Creates the controller's Ed25519 key pair; give the printed public key to agents (--trust KEY).`;

// `xepa keygen`: make the controller key pair (refuses to replace one unless --force).
export async function keygenCommand(argv: string[], o: Output): Promise<number> {
  const { values } = parse(argv, { 'key-dir': { type: 'string' }, force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } });
  if (values.help) return line(o.out, KEYGEN_USAGE), 0;
  const keys = await generateControllerKeys(values['key-dir'] ?? defaultControllerDir(), { force: values.force });
  line(o.err, `private key: ${keys.privateKeyPath}\npublic key:  ${keys.publicKeyPath}`);
  line(o.out, keys.publicKey);
  return 0;
}

export const TOKEN_USAGE = `usage: xepa token --agent-id ID [--scope control[,vnc,...]] [--ttl SECONDS] [--key-dir DIR]
Scopes: ${SCOPES.join(', ')}. The token is printed on stdout; keep it short-lived.`;

// `xepa token`: mint a scoped, short-lived token for an agent.
export async function tokenCommand(argv: string[], o: Output): Promise<number> {
  const { values } = parse(argv, {
    'agent-id': { type: 'string' }, scope: { type: 'string', default: 'control' }, ttl: { type: 'string', default: '300' },
    'key-dir': { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return line(o.out, TOKEN_USAGE), 0;
  if (!values['agent-id']) throw new XepaError('ERR_BAD_REQUEST', `--agent-id is required\n${TOKEN_USAGE}`);
  const scope = values.scope.split(',').map((s) => s.trim());
  const bad = scope.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad.length) throw new XepaError('ERR_BAD_REQUEST', `unknown scope ${bad.join(', ')}: use ${SCOPES.join(', ')}`);
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400) throw new XepaError('ERR_BAD_REQUEST', '--ttl must be 1..86400 seconds');
  if (ttl > MAX_TOKEN_LIFETIME_SECONDS) {
    line(o.err, `warning: agents refuse tokens living longer than ${MAX_TOKEN_LIFETIME_SECONDS} s unless their config raises maxTokenLifetimeSeconds`);
  }
  const key = await loadControllerKey(values['key-dir'] ?? defaultControllerDir());
  line(o.out, mintToken(key.privateKey, { agentId: values['agent-id'], scope: scope as Scope[], ttlSeconds: ttl }));
  return 0;
}
