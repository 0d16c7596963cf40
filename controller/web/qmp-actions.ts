import { ERROR_CODES, XepaError, type ErrorCode } from '../../agent/protocol/index.js';
import type { AgentPort } from './agent-link.js';
import { agentStreamPath } from './stream-paths.js';

/** A console button: power (ACPI power-off, hard reset) or media (eject, change the CD). */
export type ConsoleAction =
  | { job: string; action: 'powerdown' | 'reset' }
  | { job: string; action: 'eject' }
  | { job: string; action: 'change'; filename: string };

// The CD-ROM's qdev id in every XEPA VM (agent/vm/qemu-args.ts: `ide-cd,id=cdrom0`).
export const CDROM_DEVICE_ID = 'cdrom0';

// The QMP command a button runs. Only these four ever leave the console; the agent's allow-list checks again.
export function qmpCommandOf(a: ConsoleAction): { execute: string; args?: Record<string, unknown> } {
  switch (a.action) {
    case 'powerdown':
      return { execute: 'system_powerdown' };
    case 'reset':
      return { execute: 'system_reset' };
    case 'eject':
      return { execute: 'eject', args: { id: CDROM_DEVICE_ID, force: true } };
    case 'change':
      return { execute: 'blockdev-change-medium', args: { id: CDROM_DEVICE_ID, filename: a.filename, format: 'raw' } };
  }
}

const QMP_TIMEOUT_MS = 15_000;
let nextId = 1;

// Reads the XepaError code the agent puts in front of a refusal ("XEPA ERR_FORBIDDEN: ..."), if any.
function codeOf(desc: string): ErrorCode {
  const m = /^XEPA (ERR_[A-Z_]+):/.exec(desc);
  return m && (ERROR_CODES as readonly string[]).includes(m[1]!) ? (m[1] as ErrorCode) : 'ERR_QMP_COMMAND';
}

// Runs one QMP command on a job's VM over the agent's /v1/qmp (a fresh `qmp` token, one short connection). The
// agent presents a QMP session like QEMU's (greeting, then qmp_capabilities), so the command goes right after the
// negotiation. Resolves with QMP's `return`; rejects with the agent's refusal code (ERR_FORBIDDEN outside the
// allow-list or the media directories), ERR_QMP_COMMAND with QEMU's error, ERR_TIMEOUT without an answer.
export async function runQmpCommand(agent: AgentPort, job: string, execute: string, args?: Record<string, unknown>): Promise<unknown> {
  const ws = await agent.openStream(agentStreamPath('qmp', job), 'qmp');
  const n = nextId++;
  const capId = `xepa-web-cap-${n}`;
  const id = `xepa-web-${n}`;
  try {
    return await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new XepaError('ERR_TIMEOUT', `${execute}: no answer from QMP within ${QMP_TIMEOUT_MS / 1000} s`)), QMP_TIMEOUT_MS);
      ws.on('message', (data: Buffer) => {
        let msg: { id?: unknown; return?: unknown; error?: { class?: string; desc?: string } };
        try {
          msg = JSON.parse(data.toString('utf8')) as typeof msg;
        } catch {
          return;
        }
        if (msg.id !== id && !(msg.id === capId && msg.error)) return; // greeting, events, the negotiation's ok
        clearTimeout(timer);
        if (msg.error) {
          const desc = msg.error.desc ?? msg.error.class ?? 'QMP error';
          reject(new XepaError(codeOf(desc), `${execute} failed: ${desc.replace(/^XEPA /, '')}`, { details: { class: msg.error.class } }));
        } else resolve(msg.return);
      });
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new XepaError('ERR_QMP_DISCONNECTED', `the agent closed the QMP stream before ${execute} was answered`));
      });
      ws.resume();
      ws.send(JSON.stringify({ execute: 'qmp_capabilities', id: capId }));
      ws.send(JSON.stringify(args ? { execute, arguments: args, id } : { execute, id }));
    });
  } finally {
    ws.close();
  }
}
