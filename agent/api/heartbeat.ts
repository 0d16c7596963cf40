import type { Logger } from 'pino';
import type { WebSocket } from 'ws';

// Default interval between WebSocket pings; a peer that has not answered the previous ping is dropped.
export const PING_INTERVAL_MS = 20_000;

/** A running heartbeat: call stop() on shutdown. */
export interface Heartbeat {
  watch(ws: WebSocket): void;
  stop(): void;
}

// Pings every watched WebSocket each interval and terminates those that did not pong since the last ping.
export function startHeartbeat(intervalMs: number, log: Logger): Heartbeat {
  const alive = new Map<WebSocket, boolean>();
  const timer = setInterval(() => {
    for (const [ws, ok] of alive) {
      if (!ok) {
        log.info('peer did not answer ping: dropping the connection');
        alive.delete(ws);
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    watch(ws) {
      alive.set(ws, true);
      ws.on('pong', () => {
        if (alive.has(ws)) alive.set(ws, true);
      });
      ws.once('close', () => alive.delete(ws));
    },
    stop() {
      clearInterval(timer);
      alive.clear();
    },
  };
}
