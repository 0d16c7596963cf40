import type WebSocket from 'ws';
import { XepaError } from '../../agent/protocol/index.js';

// Runs one QMP command over a /v1/qmp stream: waits for the greeting, negotiates, sends the command and
// resolves with its "return" (events in between are skipped). A QMP error rejects with ERR_QMP_COMMAND
// carrying its class and desc (a command outside the agent's allow-list is such an error, desc "XEPA ...").
export function runQmpCommand(ws: WebSocket, command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let step: 'greeting' | 'capabilities' | 'command' = 'greeting';
    const timer = setTimeout(() => done(new XepaError('ERR_TIMEOUT', `QMP ${command}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (err: Error | undefined, value?: unknown): void => {
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.off('close', onClose);
      if (err) reject(err);
      else resolve(value);
    };
    const onClose = (code: number, reason: Buffer): void =>
      done(new XepaError('ERR_QMP_DISCONNECTED', `QMP stream closed (${code} ${reason.toString('utf8')}) before ${command} answered`));
    ws.on('close', onClose);
    ws.on('message', (data: Buffer) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      } catch {
        return done(new XepaError('ERR_QMP_PROTOCOL', 'the agent sent QMP that is not JSON'));
      }
      if ('event' in msg) return;
      if (step === 'greeting') {
        if (!('QMP' in msg)) return done(new XepaError('ERR_QMP_PROTOCOL', 'no QMP greeting'));
        step = 'capabilities';
        ws.send(JSON.stringify({ execute: 'qmp_capabilities', id: 'cap' }));
        return;
      }
      if (msg.id !== (step === 'capabilities' ? 'cap' : 'cmd')) return;
      if ('error' in msg) {
        const e = msg.error as { class?: string; desc?: string };
        return done(new XepaError('ERR_QMP_COMMAND', `QMP ${step === 'capabilities' ? 'qmp_capabilities' : command} failed: ${e.class}: ${e.desc}`, { details: { command, class: e.class, desc: e.desc } }));
      }
      if (step === 'capabilities') {
        step = 'command';
        ws.send(JSON.stringify({ execute: command, id: 'cmd', ...(args ? { arguments: args } : {}) }));
        return;
      }
      done(undefined, msg.return);
    });
    ws.resume();
  });
}
