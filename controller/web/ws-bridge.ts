import type WebSocket from 'ws';

/** How two sockets are joined. */
export interface BridgeOptions {
  readOnly?: boolean; // drop what the browser sends (a log the browser only watches)
  highWaterBytes?: number; // stop reading a side while this much is queued towards the other; default 1 MiB
  onClose?: (why: { from: 'browser' | 'agent' | 'console'; code: number }) => void;
}

/** A running bridge. */
export interface Bridge {
  close(code?: number, reason?: string): void;
}

// A close code that may be sent in a close frame (RFC 6455 §7.4: 1005/1006/1015 are never sent).
export function sendableCloseCode(code: number): number {
  if (code === 1006) return 1014; // the other side vanished: "bad gateway"
  if (code === 1005 || code === 1015 || code === 1004) return 1000;
  if ((code >= 1000 && code <= 1014) || (code >= 3000 && code <= 4999)) return code;
  return 1000;
}

const reasonOf = (r: Buffer | string): string => Buffer.from(r).subarray(0, 120).toString('utf8');

// Joins a browser WebSocket and an agent WebSocket: every message goes across with its type kept (binary RFB
// stays binary); the sending side is paused while its peer has more than highWaterBytes queued (a slow browser
// never grows the controller's memory, and neither does a fast one); whichever side closes closes the other.
// Sockets handed over paused are resumed once the bridge listens.
export function bridgeSockets(browser: WebSocket, agent: WebSocket, o: BridgeOptions = {}): Bridge {
  const high = o.highWaterBytes ?? 1 << 20;
  let closed = false;

  const forward = (src: WebSocket, dst: WebSocket): void => {
    let queued = 0;
    src.on('message', (data: Buffer, isBinary: boolean) => {
      if (dst.readyState !== dst.OPEN) return;
      const len = data.length;
      queued += len;
      dst.send(data, { binary: isBinary }, () => {
        queued -= len;
        if (queued <= high / 2 && src.isPaused && !closed) src.resume();
      });
      if (queued > high && !src.isPaused) src.pause();
    });
  };

  const end = (from: 'browser' | 'agent' | 'console', code: number, reason: Buffer | string): void => {
    if (closed) return;
    closed = true;
    const c = sendableCloseCode(code);
    for (const ws of from === 'browser' ? [agent] : from === 'agent' ? [browser] : [browser, agent]) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(c, reasonOf(reason));
    }
    o.onClose?.({ from, code });
  };

  if (!o.readOnly) forward(browser, agent);
  else browser.on('message', () => undefined);
  forward(agent, browser);
  browser.on('close', (code, reason) => end('browser', code, reason));
  agent.on('close', (code, reason) => end('agent', code, reason));
  browser.on('error', () => browser.terminate());
  agent.on('error', () => agent.terminate());
  for (const ws of [browser, agent]) if (ws.isPaused) ws.resume(); // listening now: let held data through

  return {
    close: (code = 1000, reason = '') => end('console', code, reason),
  };
}
