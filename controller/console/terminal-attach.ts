import type { Readable, Writable } from 'node:stream';
import type WebSocket from 'ws';

// Ctrl-] : the byte that detaches a terminal from a serial console (as telnet and virsh console use it).
export const DETACH_BYTE = 0x1d;

/** The local terminal: raw mode is switched on while attached when input is a TTY. */
export interface TerminalIo {
  input: Readable & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };
  output: Writable;
}

/** Why an attachment ended. */
export type AttachEnd = { reason: 'detached' } | { reason: 'closed'; code: number; text: string };

// Attaches a terminal to an agent byte stream (a serial port): keystrokes go out raw, output is written as it
// comes (the agent pauses when the terminal cannot keep up). The detach byte (Ctrl-] by default) ends the
// attachment without sending it; the agent closing the stream ends it too. Raw mode is restored either way.
export function attachTerminal(ws: WebSocket, io: TerminalIo, escapeByte: number | null = DETACH_BYTE): Promise<AttachEnd> {
  const raw = io.input.isTTY === true && typeof io.input.setRawMode === 'function';
  if (raw) io.input.setRawMode!(true);
  return new Promise((resolve) => {
    let ended = false;
    const finish = (end: AttachEnd): void => {
      if (ended) return;
      ended = true;
      io.input.off('data', onInput);
      io.input.pause();
      if (raw) io.input.setRawMode!(false);
      resolve(end);
    };
    const onInput = (chunk: Buffer | string): void => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const at = escapeByte === null ? -1 : data.indexOf(escapeByte);
      const send = at === -1 ? data : data.subarray(0, at);
      if (send.length > 0 && ws.readyState === ws.OPEN) ws.send(send, { binary: true });
      if (at !== -1) {
        finish({ reason: 'detached' });
        ws.close(1000, 'detached');
      }
    };
    ws.on('message', (data: Buffer) => {
      if (!io.output.write(data) && !ws.isPaused) {
        ws.pause();
        io.output.once('drain', () => ws.resume());
      }
    });
    ws.once('close', (code: number, text: Buffer) => finish({ reason: 'closed', code, text: text.toString('utf8') }));
    io.input.on('data', onInput);
    io.input.resume();
    ws.resume();
  });
}
