import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type WebSocket from 'ws';

/** How a piped QMP session went: the CLI exits non-zero unless every command was answered without an error. */
export interface QmpPipeResult {
  sent: number;
  replies: number;
  errors: number;
  // The stream closed (VM ended, agent gone) before every command was answered.
  cutShort: boolean;
}

// The agent answers at most 16 commands in flight per connection (agent/console/limits.ts) and refuses the rest;
// the pipe keeps fewer waiting, so a long script waits for replies instead of being refused.
export const QMP_PIPE_WINDOW = 8;

// Pipes QMP commands, one JSON object per line, from `input` to a /v1/qmp stream and every message of the stream
// (greeting, replies, events) to `output` as the agent sent it. At most `window` commands wait for their reply at
// once; reading stops while more are queued. Resolves when the input has ended and every command is answered, or
// when the stream closes. A reply is a message with `return` or `error` (QMP spec: events carry `event`).
export function pipeQmp(input: Readable, output: Writable, ws: WebSocket, window = QMP_PIPE_WINDOW): Promise<QmpPipeResult> {
  return new Promise((resolve) => {
    const r: QmpPipeResult = { sent: 0, replies: 0, errors: 0, cutShort: false };
    const queued: string[] = [];
    let inputEnded = false;
    let settled = false;
    const lines = createInterface({ input, crlfDelay: Infinity });

    const finish = (cutShort: boolean): void => {
      if (settled) return;
      settled = true;
      r.cutShort = cutShort;
      lines.close();
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (ws.readyState === ws.OPEN) ws.close(1000);
      resolve(r);
    };
    const pump = (): void => {
      while (queued.length > 0 && r.sent - r.replies < window && ws.readyState === ws.OPEN) {
        ws.send(queued.shift()!);
        r.sent++;
      }
      if (queued.length >= window) lines.pause();
      else if (!inputEnded) lines.resume();
      if (inputEnded && queued.length === 0 && r.replies >= r.sent) finish(false);
    };
    const onMessage = (data: Buffer): void => {
      output.write(data);
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        return; // not ours to judge: the agent sends JSON, and the bytes went out as they came
      }
      if (typeof msg === 'object' && msg !== null && ('return' in msg || 'error' in msg)) {
        r.replies++;
        if ('error' in msg) r.errors++;
        pump();
      }
    };
    const onClose = (): void => finish(!(inputEnded && queued.length === 0 && r.replies >= r.sent));

    ws.on('message', onMessage);
    ws.on('close', onClose);
    lines.on('line', (line) => {
      if (line.trim() === '') return;
      queued.push(line);
      pump();
    });
    lines.on('close', () => {
      inputEnded = true;
      pump();
    });
    ws.resume();
  });
}
