import type WebSocket from 'ws';
import { openQmpSession } from './qmp-session.js';

// Runs one QMP command over a /v1/qmp stream: a session of one command (greeting, negotiation, the command; events
// in between are skipped). A QMP error rejects with ERR_QMP_COMMAND carrying its class and desc (a command outside
// the agent's allow-list is such an error, desc "XEPA ...").
export async function runQmpCommand(ws: WebSocket, command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<unknown> {
  const session = await openQmpSession(ws, timeoutMs);
  return session.execute(command, args);
}
