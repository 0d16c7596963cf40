import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { WsRoute } from '../../api/index.js';
import { isXepaError } from '../../protocol/index.js';
import { jobParam, type ConsoleTargets } from '../job-targets.js';
import { CLOSE, closeReason, type ConsoleLimits } from '../limits.js';
import { RfbClientFilter } from './rfb-client-filter.js';
import { dialConsole } from '../unix-connect.js';
import type { ViewerCounts } from '../viewer-counts.js';
import { bridgeWebSocket } from '../ws-bridge.js';

/** What the VNC endpoint needs. */
export interface VncRouteOptions {
  targets: ConsoleTargets;
  counts: ViewerCounts;
  limits: ConsoleLimits;
  log: Logger;
  connect?: (path: string) => Duplex; // default: a unix socket connection reading into pooled buffers
}

// /v1/vnc: raw binary RFB to the job's VNC socket, as noVNC and websockify clients expect (subprotocol `binary`
// when offered, else none). Every viewer gets its own connection to QEMU's VNC server, which serves shared
// clients natively: each keeps its own pixel format, encodings and pace, so a slow viewer never slows another.
// Tokens with `vnc` may type and point; `vnc:view` tokens only look (the RFB filter drops their input).
export function vncRoute(o: VncRouteOptions): WsRoute {
  const log = o.log.child({ mod: 'vnc' });
  return {
    path: '/v1/vnc',
    scope: ['vnc', 'vnc:view'],
    maxPayload: 1 << 20,
    subprotocols: ['binary', 'xepa'],
    check: ({ req, auth }) => {
      o.targets(jobParam(req));
      o.counts.check('vnc', auth.claims.scope.includes('vnc') ? 'full' : 'view'); // view-only cannot take reserved slots
    },
    onConnection: (ws: WebSocket, { req, auth }) => {
      const access = auth.claims.scope.includes('vnc') ? 'full' : 'view';
      const release = o.counts.acquire('vnc', access === 'full' ? 'full' : 'view');
      let target;
      try {
        target = o.targets(jobParam(req));
      } catch (err) {
        release();
        ws.close(CLOSE.tryAgainLater, closeReason(isXepaError(err) ? `${err.code}: ${err.message}` : 'no VM'));
        return;
      }
      const filter = new RfbClientFilter(access);
      const vlog = log.child({ job: target.job, access, jti: auth.claims.jti });
      const { socket: upstream, recycle } = dialConsole(target.vnc, { log: vlog, pooled: true, ...(o.connect ? { connect: o.connect } : {}) });
      vlog.info('vnc viewer connected');
      bridgeWebSocket({
        ws,
        upstream,
        log: vlog,
        highWaterBytes: o.limits.highWaterBytes,
        lowWaterBytes: o.limits.lowWaterBytes,
        toUpstream: (chunk) => filter.pushClient(chunk),
        observeDownstream: (chunk) => {
          if (filter.observingServer) filter.pushServer(chunk);
        },
        upstreamEnded: "the VM's VNC server closed the connection",
        ...(recycle ? { recycle } : {}),
      });
      ws.on('close', () => {
        release();
        vlog.info({ dropped: filter.dropped }, 'vnc viewer left');
      });
    },
  };
}
