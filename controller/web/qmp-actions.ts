import { ERROR_CODES, XepaError, isXepaError, type ErrorCode } from '../../agent/protocol/index.js';
import { runQmpCommand } from '../console/index.js';
import type { AgentPort } from './agent-link.js';
import { agentStreamTarget } from './stream-paths.js';

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

// Reads the XepaError code the agent puts in front of a refusal ("XEPA ERR_FORBIDDEN: ..."), if any.
function agentCodeOf(err: unknown): ErrorCode | undefined {
  const desc = isXepaError(err) ? err.details?.desc : undefined;
  const m = typeof desc === 'string' ? /^XEPA (ERR_[A-Z_]+):/.exec(desc) : null;
  return m && (ERROR_CODES as readonly string[]).includes(m[1]!) ? (m[1] as ErrorCode) : undefined;
}

// Runs one QMP command on a job's VM over the agent's /v1/qmp (a fresh `qmp` token, one short connection;
// controller/console negotiates the QMP session the agent presents). Resolves with QMP's `return`; a refusal by
// the agent keeps its code (ERR_FORBIDDEN: outside the allow-list or the media directories), QEMU's own errors
// are ERR_QMP_COMMAND.
export async function runConsoleQmp(agent: AgentPort, job: string, execute: string, args?: Record<string, unknown>): Promise<unknown> {
  const ws = await agent.openStream(agentStreamTarget('qmp', job), 'qmp');
  try {
    return await runQmpCommand(ws, execute, args, 15_000);
  } catch (err) {
    const code = agentCodeOf(err);
    if (!code || !isXepaError(err)) throw err;
    throw new XepaError(code, err.message.replace(/XEPA ERR_[A-Z_]+: /, ''), { cause: err });
  } finally {
    ws.close();
  }
}
