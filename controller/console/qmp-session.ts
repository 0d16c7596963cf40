import type WebSocket from 'ws';
import { XepaError } from '../../agent/protocol/index.js';

/** One negotiated QMP session over a /v1/qmp stream: many commands, one connection, one token. */
export interface QmpStreamSession {
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

// Opens a QMP session on `ws`: waits for the greeting, negotiates, then runs commands with ids of its own
// (replies are matched by id, events skipped). A QMP error rejects that command with ERR_QMP_COMMAND carrying its
// class and desc; a closed stream rejects every pending command with ERR_QMP_DISCONNECTED; a command with no answer
// within `timeoutMs` rejects with ERR_TIMEOUT.
export function openQmpSession(ws: WebSocket, timeoutMs = 30_000): Promise<QmpStreamSession> {
  return new Promise((resolveOpen, rejectOpen) => {
    const pending = new Map<string, { command: string; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
    let next = 0;
    let phase: 'greeting' | 'capabilities' | 'open' | 'closed' = 'greeting';
    let closedError: XepaError | undefined;

    const send = (command: string, args?: Record<string, unknown>): Promise<unknown> => {
      if (closedError) return Promise.reject(closedError);
      const id = `xepa-${++next}`;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new XepaError('ERR_TIMEOUT', `QMP ${command}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { command, resolve, reject, timer });
        ws.send(JSON.stringify({ execute: command, id, ...(args ? { arguments: args } : {}) }));
      });
    };
    const session: QmpStreamSession = { execute: send, close: () => ws.close(1000) };
    const greetingTimer = setTimeout(() => fail(new XepaError('ERR_TIMEOUT', `no QMP greeting within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: XepaError): void => {
      if (phase === 'closed') return;
      clearTimeout(greetingTimer);
      if (!closedError) closedError = err;
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        pending.delete(id);
        p.reject(err);
      }
      if (phase !== 'open') rejectOpen(err);
      phase = 'closed';
      ws.close();
    };

    ws.on('close', (code: number, reason: Buffer) => fail(new XepaError('ERR_QMP_DISCONNECTED', `QMP stream closed (${code} ${reason.toString('utf8')})`)));
    ws.on('message', (data: Buffer) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(new XepaError('ERR_QMP_PROTOCOL', 'the agent sent QMP that is not JSON'));
      }
      if ('event' in msg) return;
      if (phase === 'greeting') {
        if (!('QMP' in msg)) return fail(new XepaError('ERR_QMP_PROTOCOL', 'no QMP greeting'));
        phase = 'capabilities';
        send('qmp_capabilities').then(
          () => {
            clearTimeout(greetingTimer);
            phase = 'open';
            resolveOpen(session);
          },
          (err: unknown) => fail(err instanceof XepaError ? err : new XepaError('ERR_QMP_PROTOCOL', String(err))),
        );
        return;
      }
      const p = typeof msg.id === 'string' ? pending.get(msg.id) : undefined;
      if (!p) return; // QMP spec: replies with unknown ids are dropped
      pending.delete(msg.id as string);
      clearTimeout(p.timer);
      if ('error' in msg) {
        const e = msg.error as { class?: string; desc?: string };
        p.reject(new XepaError('ERR_QMP_COMMAND', `QMP ${p.command} failed: ${e.class}: ${e.desc}`, { details: { command: p.command, class: e.class, desc: e.desc } }));
      } else p.resolve(msg.return);
    });
    ws.resume();
  });
}
