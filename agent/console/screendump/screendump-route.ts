import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { WsRoute } from '../../api/index.js';
import { toWireError } from '../../protocol/index.js';
import { jobParam, type ConsoleTargets } from '../job-targets.js';
import { CLOSE } from '../limits.js';
import { takeScreenshot } from './screendump.js';
import type { ViewerCounts } from '../viewer-counts.js';

// /v1/screendump (vnc or vnc:view): one screenshot per connection. The agent sends a text frame
// `{"format":"png","width":W,"height":H,"bytes":N}`, then the PNG as one binary frame, then closes (1000).
// On failure the text frame is `{"error":{"code","message"}}` and the close code 1011.
export function screendumpRoute(o: { targets: ConsoleTargets; counts: ViewerCounts; log: Logger }): WsRoute {
  const log = o.log.child({ mod: 'screendump' });
  return {
    path: '/v1/screendump',
    scope: ['vnc', 'vnc:view'],
    maxPayload: 1024,
    subprotocols: ['xepa', 'binary'],
    check: ({ req }) => {
      o.targets(jobParam(req));
      o.counts.check('screendump');
    },
    onConnection: (ws: WebSocket, { req }) => {
      const release = o.counts.acquire('screendump');
      ws.once('close', release);
      void (async () => {
        const target = o.targets(jobParam(req));
        const shot = await takeScreenshot(target);
        if (ws.readyState !== ws.OPEN) return;
        ws.send(JSON.stringify({ format: 'png', width: shot.width, height: shot.height, bytes: shot.png.length }));
        ws.send(shot.png, { binary: true });
        ws.close(CLOSE.normal, 'done');
        log.info({ job: target.job, width: shot.width, height: shot.height, bytes: shot.png.length }, 'screenshot sent');
      })().catch((err: unknown) => {
        log.warn({ err }, 'screenshot failed');
        if (ws.readyState !== ws.OPEN) return;
        ws.send(JSON.stringify({ error: toWireError(err) }));
        ws.close(CLOSE.internal, 'screenshot failed');
      });
    },
  };
}
