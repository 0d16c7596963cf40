import { XepaError } from '../../../agent/protocol/index.js';
import { defaultControllerDir } from '../../auth/index.js';
import { forgetAgent, probeAgents, readRegistry, recordAgent, registryPath, type AgentState, type ProbeDeps } from '../../registry/index.js';
import { parse } from '../args.js';
import { line, table, type Output } from '../output.js';

// `xepa agents --help`.
export const AGENTS_USAGE = `usage: xepa agents [--timeout SECONDS] [--key-dir DIR] [--json]
       xepa agents forget ID
Lists the agents this controller knows (injected or recorded), each probed now over TLS pinned to its recorded
fingerprint: up, unreachable, wrong-certificate (something else answers there), other-agent.`;

function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 90 ? `${s}s ago` : s < 5400 ? `${Math.round(s / 60)}m ago` : s < 129_600 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86_400)}d ago`;
}

function stateText(s: AgentState): string {
  return s.state === 'up' ? `up (${s.version})` : s.state;
}

// `xepa agents`: the registry with every agent's state, probed in parallel with a short timeout.
export async function agentsCommand(argv: string[], o: Output, deps: ProbeDeps = {}): Promise<number> {
  const { values, positionals } = parse(argv, {
    timeout: { type: 'string', default: '3' },
    'key-dir': { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) return line(o.out, AGENTS_USAGE), 0;
  const file = registryPath(values['key-dir'] ?? defaultControllerDir());
  if (positionals[0] === 'forget') {
    const id = positionals[1];
    if (!id) throw new XepaError('ERR_BAD_REQUEST', `which agent? ${AGENTS_USAGE}`);
    if (!(await forgetAgent(file, id))) throw new XepaError('ERR_NOT_FOUND', `no agent ${id} in ${file}`);
    line(o.err, `forgot ${id} (its pinned fingerprint is gone from ${file})`);
    return 0;
  }
  if (positionals.length) throw new XepaError('ERR_BAD_REQUEST', `unknown arguments ${positionals.join(' ')}\n${AGENTS_USAGE}`);
  const timeout = Number(values.timeout);
  if (!(timeout > 0 && timeout <= 60)) throw new XepaError('ERR_BAD_REQUEST', '--timeout must be 0.1 to 60 seconds');
  const agents = await readRegistry(file);
  const states = await probeAgents(agents, timeout * 1000, deps);
  for (let i = 0; i < agents.length; i++) {
    const s = states[i]!;
    if (s.state === 'up') agents[i] = await recordAgent(file, { id: agents[i]!.id, lastSeen: s.seenAt, version: s.version });
  }
  if (values.json) {
    line(o.out, JSON.stringify(agents.map((a, i) => ({ ...a, status: states[i] })), null, 2));
    return 0;
  }
  if (agents.length === 0) {
    line(o.err, `no agents recorded in ${file}: \`xepa inject ssh://root@HOST\` adds one`);
    return 0;
  }
  const now = Date.now();
  const rows = [['ID', 'ADDRESS', 'STATE', 'LAST SEEN', 'INJECTED', 'FINGERPRINT']];
  agents.forEach((a, i) => rows.push([a.id, a.address, stateText(states[i]!), ago(a.lastSeen, now), ago(a.injectedAt, now), `${a.fingerprint.slice(0, 23)}...`]));
  line(o.out, table(rows));
  for (let i = 0; i < agents.length; i++) {
    const s = states[i]!;
    if (s.state !== 'up') line(o.err, `${agents[i]!.id}: ${s.reason}`);
  }
  return 0;
}
