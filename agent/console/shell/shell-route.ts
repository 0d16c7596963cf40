import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { WsRoute } from '../../api/index.js';
import { CLOSE, type ConsoleLimits } from '../limits.js';
import type { PtyAvailability } from './pty-loader.js';
import type { ViewerCounts } from '../viewer-counts.js';

/** The shell a /v1/shell connection runs. */
export interface ShellCommand {
  file: string; // default $SHELL, else /bin/sh
  args: string[]; // default ['-l']
  cwd: string; // default $HOME, else /
  env: Record<string, string>;
}

/** What the shell endpoint needs. */
export interface ShellRouteOptions {
  pty: Promise<PtyAvailability>; // started once at agent start (loadPty)
  command: ShellCommand;
  counts: ViewerCounts;
  limits: ConsoleLimits;
  log: Logger;
}

const clampSize = (v: string | null, dflt: number): number => {
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : dflt;
};

// /v1/shell: a pty in the rescue system. Binary frames carry terminal bytes both ways; text frames from the
// client carry control as JSON (`{"type":"resize","cols":C,"rows":R}`); when the shell ends the agent sends
// `{"type":"exit","exitCode":N,"signal":S}` as text and closes. Initial size: `?cols=&rows=` (default 80x24).
export function shellRoute(o: ShellRouteOptions): WsRoute {
  const log = o.log.child({ mod: 'shell' });
  let availability: PtyAvailability | undefined;
  void o.pty.then((a) => {
    availability = a;
    if (!a.ok) log.warn({ reason: a.error.message }, 'shell endpoint unavailable');
  });
  return {
    path: '/v1/shell',
    scope: 'shell',
    maxPayload: 64 << 10,
    subprotocols: ['binary', 'xepa'],
    check: () => {
      if (availability && !availability.ok) throw availability.error;
      o.counts.check('shell');
    },
    onConnection: (ws: WebSocket, { req, auth }) => {
      const release = o.counts.acquire('shell');
      ws.once('close', release);
      ws.pause(); // nothing is read until the pty exists
      void o.pty.then((a) => {
        if (!a.ok) return ws.close(CLOSE.tryAgainLater, 'ERR_UNAVAILABLE: node-pty is not installed on this agent');
        if (ws.readyState !== ws.OPEN) return;
        const q = new URL(req.url ?? '/', 'https://agent').searchParams;
        const term = a.pty.spawn(o.command.file, o.command.args, {
          name: 'xterm-256color',
          cols: clampSize(q.get('cols'), 80),
          rows: clampSize(q.get('rows'), 24),
          cwd: o.command.cwd,
          env: { ...o.command.env, TERM: 'xterm-256color' },
          encoding: null, // bytes, never a half-decoded UTF-8 sequence
        });
        const slog = log.child({ pid: term.pid, jti: auth.claims.jti });
        slog.info({ file: o.command.file }, 'shell started');
        let paused = false;
        const afterSend = (): void => {
          if (paused && ws.bufferedAmount <= o.limits.lowWaterBytes) {
            paused = false;
            term.resume();
          }
        };
        term.onData((d) => {
          ws.send(typeof d === 'string' ? Buffer.from(d, 'utf8') : d, { binary: true }, afterSend);
          if (!paused && ws.bufferedAmount > o.limits.highWaterBytes) {
            paused = true;
            term.pause();
          }
        });
        term.onExit(({ exitCode, signal }) => {
          slog.info({ exitCode, signal }, 'shell ended');
          if (ws.readyState !== ws.OPEN) return;
          ws.send(JSON.stringify({ type: 'exit', exitCode, signal: signal ?? 0 }));
          ws.close(CLOSE.normal, 'the shell ended');
        });
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          if (isBinary) return term.write(data);
          const ctl = parseControl(data);
          if (ctl) term.resize(ctl.cols, ctl.rows);
        });
        ws.on('close', () => {
          try {
            term.kill('SIGHUP');
          } catch {
            // already gone
          }
        });
        ws.resume();
      });
    },
  };
}

function parseControl(data: Buffer): { cols: number; rows: number } | undefined {
  try {
    const m = JSON.parse(data.toString('utf8')) as { type?: unknown; cols?: unknown; rows?: unknown };
    if (m.type !== 'resize') return undefined;
    const cols = clampSize(String(m.cols), 0);
    const rows = clampSize(String(m.rows), 0);
    return cols > 0 && rows > 0 ? { cols, rows } : undefined;
  } catch {
    return undefined;
  }
}
