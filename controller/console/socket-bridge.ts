import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

/** Buffer bounds of a bridge: the local socket pauses while the WebSocket holds more than high unsent. */
export interface BridgeLimits {
  highWaterBytes: number;
  lowWaterBytes: number;
}

// Default bounds: 1 MiB unsent before the local side is paused, resumed under 256 KiB.
export const DEFAULT_BRIDGE_LIMITS: BridgeLimits = { highWaterBytes: 1 << 20, lowWaterBytes: 256 << 10 };

// Joins a local byte stream (a TCP or unix connection from a VNC viewer, socat, qmp-shell) to an agent stream
// both ways with bounded buffers: local bytes go out as binary frames; every frame from the agent (binary or
// text) is written to the local side as bytes. Backpressure both ways; either end closing closes the other.
// Resolves when both are closed.
export function bridgeLocalSocket(local: Duplex, ws: WebSocket, limits: BridgeLimits = DEFAULT_BRIDGE_LIMITS): Promise<void> {
  let paused = false;
  const afterSend = (): void => {
    if (paused && ws.bufferedAmount <= limits.lowWaterBytes) {
      paused = false;
      local.resume();
    }
  };
  local.on('data', (chunk: Buffer) => {
    ws.send(chunk, { binary: true }, afterSend);
    if (!paused && ws.bufferedAmount > limits.highWaterBytes) {
      paused = true;
      local.pause();
    }
  });
  ws.on('message', (data: Buffer) => {
    if (!local.write(data) && !ws.isPaused) {
      ws.pause();
      local.once('drain', () => ws.resume());
    }
  });
  return new Promise((resolve) => {
    let open = 2;
    const done = (): void => {
      if (--open === 0) resolve();
    };
    local.once('close', () => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000, 'local side closed');
      done();
    });
    local.on('error', () => local.destroy());
    ws.once('close', () => {
      local.once('finish', () => local.destroy());
      local.end(); // let buffered bytes reach the viewer, then close
      done();
    });
    local.resume();
    ws.resume();
  });
}
