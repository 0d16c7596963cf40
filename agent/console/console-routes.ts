import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WsRoute } from '../api/index.js';
import type { ConsoleTargets } from './job-targets.js';
import { DEFAULT_CONSOLE_LIMITS, type ConsoleLimits } from './limits.js';
import { loadPty, type PtyAvailability } from './shell/pty-loader.js';
import { qmpRoute } from './qmp/qmp-route.js';
import { screendumpRoute } from './screendump/screendump-route.js';
import { SerialHubs, serialRoute } from './serial/serial-route.js';
import { shellRoute, type ShellCommand } from './shell/shell-route.js';
import { ViewerCounts } from './viewer-counts.js';
import { vncRoute } from './vnc/vnc-route.js';

/** What the console endpoints need; everything but targets and log has a working default. */
export interface ConsoleRoutesOptions {
  targets: ConsoleTargets;
  log: Logger;
  mediaDirs?: readonly string[]; // where blockdev-change-medium may take images (the agent's ISO directory)
  shell?: Partial<ShellCommand>;
  pty?: Promise<PtyAvailability>; // default loadPty(): node-pty, loaded lazily
  limits?: Partial<ConsoleLimits>;
  connect?: (path: string) => Duplex; // unix socket dialer (VNC and serial)
}

/** The console endpoints, ready for startAgentServer({ routes }), and how to end their shared state. */
export interface ConsoleRoutes {
  routes: WsRoute[];
  close(): Promise<void>;
}

// Builds /v1/vnc, /v1/serial/N, /v1/qmp, /v1/shell and /v1/screendump. Pings and dead-peer detection come from
// the agent server's heartbeat (every WebSocket, every 20 s); the consoles add no idle timeout of their own.
export function createConsoleRoutes(o: ConsoleRoutesOptions): ConsoleRoutes {
  const limits: ConsoleLimits = { ...DEFAULT_CONSOLE_LIMITS, ...o.limits };
  const counts = new ViewerCounts(limits.maxViewers, { vnc: limits.vncReservedFull });
  const log = o.log.child({ mod: 'console' });
  const hubs = new SerialHubs({ limits, log, ...(o.connect ? { connect: o.connect } : {}) });
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  const command: ShellCommand = {
    file: o.shell?.file ?? process.env.SHELL ?? '/bin/sh',
    args: o.shell?.args ?? ['-l'],
    cwd: o.shell?.cwd ?? process.env.HOME ?? '/',
    env: o.shell?.env ?? env,
  };
  const routes: WsRoute[] = [
    vncRoute({ targets: o.targets, counts, limits, log, ...(o.connect ? { connect: o.connect } : {}) }),
    serialRoute({ targets: o.targets, hubs, counts, log }),
    qmpRoute({ targets: o.targets, counts, limits, log, mediaDirs: o.mediaDirs ?? [] }),
    shellRoute({ pty: o.pty ?? loadPty(), command, counts, limits, log }),
    screendumpRoute({ targets: o.targets, counts, log }),
  ];
  return { routes, close: () => hubs.closeAll() };
}
