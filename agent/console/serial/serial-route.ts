import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { WsRoute } from '../../api/index.js';
import { XepaError, isXepaError } from '../../protocol/index.js';
import type { ConsoleTarget, ConsoleTargets } from '../job-targets.js';
import { jobParam } from '../job-targets.js';
import { CLOSE, closeReason, type ConsoleLimits } from '../limits.js';
import { SerialHub, type SerialHubOptions } from './serial-hub.js';
import type { ViewerCounts } from '../viewer-counts.js';

// The serial hubs of the agent, one per (job, port), opened on the first viewer and kept until the VM ends.
export class SerialHubs {
  private readonly hubs = new Map<string, Promise<SerialHub>>();

  constructor(private readonly o: { limits: ConsoleLimits; log: Logger; connect?: (path: string) => Duplex; readTail?: SerialHubOptions['readTail'] }) {}

  // The hub of one port of a running VM (opening it when needed).
  get(target: ConsoleTarget, port: number): Promise<SerialHub> {
    const key = `${target.job}/${port}`;
    const known = this.hubs.get(key);
    if (known) {
      return known.then((hub) => (hub.closed ? this.open(key, target, port) : hub), () => this.open(key, target, port));
    }
    return this.open(key, target, port);
  }

  // Ends every hub (agent shutdown).
  async closeAll(): Promise<void> {
    const all = [...this.hubs.values()];
    this.hubs.clear();
    for (const p of all) (await p.catch(() => undefined))?.close('the agent is stopping');
  }

  private open(key: string, target: ConsoleTarget, port: number): Promise<SerialHub> {
    const socketPath = target.serial[port];
    if (!socketPath) return Promise.reject(new XepaError('ERR_NOT_FOUND', `job ${target.job} has no serial port ${port}`));
    const logPath = target.serialLogs[port];
    const p = SerialHub.open({
      socketPath,
      ...(logPath ? { logPath } : {}),
      ringBytes: this.o.limits.serialRingBytes,
      viewerBacklogBytes: this.o.limits.serialViewerBacklogBytes,
      log: this.o.log.child({ job: target.job, serial: port }),
      ...(this.o.connect ? { connect: this.o.connect } : {}),
      ...(this.o.readTail ? { readTail: this.o.readTail } : {}),
    });
    this.hubs.set(key, p);
    p.then((hub) => hub.onClose(() => this.hubs.get(key) === p && this.hubs.delete(key)), () => this.hubs.get(key) === p && this.hubs.delete(key));
    return p;
  }
}

// /v1/serial/N (N = 0 for COM1, 1 for COM2): raw bytes both ways; a new viewer first gets the scrollback.
export function serialRoute(o: { targets: ConsoleTargets; hubs: SerialHubs; counts: ViewerCounts; log: Logger }): WsRoute {
  const log = o.log.child({ mod: 'serial' });
  return {
    path: /^\/v1\/serial\/([01])$/,
    instances: ['/v1/serial/0', '/v1/serial/1'],
    scope: 'serial',
    maxPayload: 64 << 10,
    subprotocols: ['binary', 'xepa'],
    check: ({ req }) => {
      o.targets(jobParam(req));
      o.counts.check('serial');
    },
    onConnection: (ws: WebSocket, { req, match, auth }) => {
      const port = Number(match?.[1] ?? 0);
      const release = o.counts.acquire('serial');
      const queued: Buffer[] = [];
      let queuedBytes = 0;
      // Input typed before the hub is attached waits (bounded: a flood before attach closes the connection).
      let input = (data: Buffer): void => {
        queuedBytes += data.length;
        if (queuedBytes > 64 << 10) ws.close(CLOSE.tooBig, 'too much input before the serial port was attached');
        else queued.push(data);
      };
      let detach = (): void => undefined;
      ws.on('message', (data: Buffer) => input(data));
      ws.on('close', () => {
        detach();
        release();
      });
      void (async () => {
        const target = o.targets(jobParam(req));
        const hub = await o.hubs.get(target, port);
        if (ws.readyState !== ws.OPEN) return;
        const a = hub.attach(ws);
        input = a.input;
        detach = a.detach;
        for (const q of queued.splice(0)) a.input(q);
        log.info({ job: target.job, port, jti: auth.claims.jti, viewers: hub.viewerCount }, 'serial viewer attached');
      })().catch((err: unknown) => {
        log.info({ err: isXepaError(err) ? err.message : String(err) }, 'serial attach failed');
        ws.close(CLOSE.internal, closeReason(isXepaError(err) ? `${err.code}: ${err.message}` : 'serial attach failed'));
      });
    },
  };
}
