import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

/** Buffer bounds of a bridge: the local socket pauses while the WebSocket holds more than high unsent. */
export interface BridgeLimits {
  highWaterBytes: number;
  lowWaterBytes: number;
}

// Default bounds: 1 MiB unsent before the local side is paused, resumed under 256 KiB.
export const DEFAULT_BRIDGE_LIMITS: BridgeLimits = { highWaterBytes: 1 << 20, lowWaterBytes: 256 << 10 };

// After the local side half-closes (socat after its stdin ends), replies still flow until the agent has been quiet
// this long; then both sides close. A WebSocket cannot be half-closed, so this is how the tunnel lingers.
export const HALF_CLOSE_LINGER_MS = 2000;

// Joins a local byte stream (a TCP or unix connection from a VNC viewer, socat, qmp-shell) to an agent stream
// both ways with bounded buffers: local bytes go out as binary frames; every frame from the agent (binary or
// text) is written to the local side as bytes. Backpressure both ways; either end closing closes the other.
// Resolves when both are closed. A local half-close (allowHalfOpen sockets) lingers: see HALF_CLOSE_LINGER_MS.
export function bridgeLocalSocket(local: Duplex, ws: WebSocket, limits: BridgeLimits = DEFAULT_BRIDGE_LIMITS, lingerMs = HALF_CLOSE_LINGER_MS): Promise<void> {
  let paused = false;
  let linger: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(linger);
    linger = setTimeout(() => ws.close(1000, 'local side closed'), lingerMs);
  };
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
  local.once('end', arm);
  ws.on('message', (data: Buffer) => {
    if (linger) arm();
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
      clearTimeout(linger);
      local.once('finish', () => local.destroy());
      local.end(); // let buffered bytes reach the viewer, then close
      done();
    });
    local.resume();
    ws.resume();
  });
}
