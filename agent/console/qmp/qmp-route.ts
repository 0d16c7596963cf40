import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { WsRoute } from '../../api/index.js';
import { isXepaError } from '../../protocol/index.js';
import { jobParam, type ConsoleTargets } from '../job-targets.js';
import { CLOSE, closeReason, type ConsoleLimits } from '../limits.js';
import { SCREENDUMP_DIR } from './qmp-policy.js';
import { QmpSession } from './qmp-session.js';
import type { ViewerCounts } from '../viewer-counts.js';

/** What the QMP endpoint needs. */
export interface QmpRouteOptions {
  targets: ConsoleTargets;
  counts: ViewerCounts;
  limits: ConsoleLimits;
  mediaDirs: readonly string[];
  log: Logger;
}

// /v1/qmp: a QMP session per client over the agent's single QMP connection, limited to the allow-list.
// The client may send JSON in text or binary frames, split or packed as it likes (a byte stream, like QEMU's
// socket); every message to the client is one text frame holding one JSON object and CRLF.
export function qmpRoute(o: QmpRouteOptions): WsRoute {
  const log = o.log.child({ mod: 'qmp-console' });
  return {
    path: '/v1/qmp',
    scope: 'qmp',
    maxPayload: o.limits.qmpMaxMessageBytes,
    subprotocols: ['xepa', 'binary'],
    check: ({ req }) => {
      o.targets(jobParam(req));
      o.counts.check('qmp');
    },
    onConnection: (ws: WebSocket, { req, auth }) => {
      const release = o.counts.acquire('qmp');
      ws.once('close', release);
      let target;
      try {
        target = o.targets(jobParam(req));
        mkdirSync(join(target.dir, SCREENDUMP_DIR), { recursive: true, mode: 0o700 });
      } catch (err) {
        ws.close(CLOSE.tryAgainLater, closeReason(isXepaError(err) ? `${err.code}: ${err.message}` : 'no VM'));
        return;
      }
      const slog = log.child({ job: target.job, jti: auth.claims.jti });
      const session = new QmpSession({
        qmp: target.qmp,
        policy: { jobDir: target.dir, mediaDirs: o.mediaDirs },
        log: slog,
        maxInFlight: o.limits.qmpMaxInFlight,
        maxMessageBytes: o.limits.qmpMaxMessageBytes,
        send: (msg) => {
          if (ws.readyState !== ws.OPEN) return;
          // Events cannot be paused at QEMU: a client this far behind is dropped rather than buffered without end.
          if (ws.bufferedAmount > o.limits.highWaterBytes) return ws.close(CLOSE.tryAgainLater, 'QMP client too slow');
          ws.send(`${JSON.stringify(msg)}\r\n`);
        },
      });
      const onVmGone = (): void => ws.close(CLOSE.normal, 'the VM ended');
      target.qmp.on('close', onVmGone);
      ws.on('message', (data: Buffer) => {
        try {
          session.receive(data);
        } catch (err) {
          ws.close(CLOSE.tooBig, closeReason(isXepaError(err) ? `${err.code}: ${err.message}` : 'bad input'));
        }
      });
      ws.on('close', () => {
        session.close();
        target.qmp.off('close', onVmGone);
        slog.info('qmp client left');
      });
      slog.info('qmp client connected');
      if (target.qmp.closed) return onVmGone();
      session.start();
    },
  };
}
