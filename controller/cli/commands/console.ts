import { spawn } from 'node:child_process';
import { defaultControllerDir, loadControllerKey } from '../../auth/index.js';
import { createStreamContext, nativeConsoleHint, startPortForward, webConsoleBase, type StreamContext } from '../../console/index.js';
import { registryPath } from '../../registry/index.js';
import { mintLoginLink } from '../../web/index.js';
import { XepaError } from '../../../agent/protocol/index.js';
import { AGENT_OPTIONS, parse } from '../args.js';
import { line, type Output } from '../output.js';
import { resolvePin } from '../session.js';

// The verb's help text.
export const CONSOLE_USAGE = `usage: xepa console HOST [--vnc-port PORT [--bind ADDR] [--view-only]] [--job ID]
                    [--web-url URL [--open]] [--fingerprint FP] [--key-dir DIR]
Without --vnc-port: prints a one-time login link to the web console of a running \`xepa serve\` (--web-url or
XEPA_WEB_URL). With --vnc-port: forwards 127.0.0.1:PORT (--bind to change) to the installer's screen so TigerVNC,
Remmina or vncviewer connect natively (vncviewer 127.0.0.1::PORT); each connection gets a fresh short-lived token;
--view-only forwards a screen that cannot be typed on. Ctrl-C stops the forward.`;

/** The options every console verb shares. */
export const STREAM_OPTIONS = { ...AGENT_OPTIONS, job: { type: 'string' } } as const;

// Resolves HOST and its pin (flag, XEPA_FINGERPRINT or the registry) into a ready stream context.
export async function streamContextFor(host: string | undefined, flags: { fingerprint?: string | undefined; 'key-dir'?: string | undefined }, o: Output): Promise<StreamContext> {
  const dir = flags['key-dir'] ?? defaultControllerDir();
  const pin = await resolvePin(host, flags.fingerprint, registryPath(dir), (t) => line(o.err, t));
  return createStreamContext({ url: pin.url, fingerprint: pin.fingerprint, keyDir: dir });
}

// Resolves on SIGINT or SIGTERM (the forwards run until the user stops them).
export function untilInterrupted(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => (): void => {
      process.off('SIGINT', int);
      process.off('SIGTERM', term);
      resolve(sig);
    };
    const int = on('SIGINT');
    const term = on('SIGTERM');
    process.once('SIGINT', int);
    process.once('SIGTERM', term);
  });
}

// Parses a TCP port number (1-65535; 0 picks a free one).
export function portOf(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n > 65535) throw new XepaError('ERR_BAD_REQUEST', `${what} must be a TCP port number, got ${text}`);
  return n;
}

// `xepa console`: the web console link, or a local VNC port forwarded to the agent's /v1/vnc.
export async function consoleCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...STREAM_OPTIONS,
    'vnc-port': { type: 'string' },
    bind: { type: 'string' },
    'view-only': { type: 'boolean', default: false },
    'web-url': { type: 'string' },
    open: { type: 'boolean', default: false },
  });
  if (values.help) return line(o.out, CONSOLE_USAGE), 0;
  const host = positionals[0];
  if (!host) return line(o.err, CONSOLE_USAGE), 2;
  if (values['vnc-port'] === undefined) {
    const base = webConsoleBase(values['web-url']);
    if (!base) return line(o.err, nativeConsoleHint(host)), 1;
    const key = await loadControllerKey(values['key-dir'] ?? defaultControllerDir());
    const link = mintLoginLink(key.privateKey, { url: base, role: values['view-only'] ? 'view' : 'control' });
    line(o.out, values.json ? JSON.stringify({ url: base, login: link }) : link);
    if (!values.json) line(o.err, `one-time login link to the web console at ${base} (it serves the agent given to \`xepa serve --agent\`)`);
    if (values.open) spawn('xdg-open', [link], { stdio: 'ignore', detached: true }).on('error', () => line(o.err, 'xdg-open is not available: open the link yourself')).unref();
    return 0;
  }
  const port = portOf(values['vnc-port'], '--vnc-port');
  const ctx = await streamContextFor(host, values, o);
  const scope = values['view-only'] ? 'vnc:view' : 'vnc';
  const forward = await startPortForward({
    listen: { host: values.bind ?? '127.0.0.1', port },
    open: () => ctx.open(scope, { path: '/v1/vnc', query: { job: values.job }, subprotocols: ['binary'] }),
    onEvent: (e) => {
      if (e.kind === 'error') line(o.err, `viewer ${e.remote}: ${e.error instanceof XepaError ? `${e.error.code}: ` : ''}${e.error.message}`);
      else line(o.err, `viewer ${e.remote} ${e.kind === 'open' ? 'connected' : 'left'}`);
    },
  });
  const [fwHost, fwPort] = [values.bind ?? '127.0.0.1', forward.port];
  if (values.json) line(o.out, JSON.stringify({ listen: forward.address, agentId: ctx.agentId, scope }));
  else {
    line(o.out, `VNC of ${ctx.agentId} (${scope === 'vnc' ? 'full control' : 'view only'}) on ${forward.address}`);
    line(o.out, `  TigerVNC/vncviewer: vncviewer ${fwHost}::${fwPort}    Remmina: vnc://${fwHost}:${fwPort}    Ctrl-C to stop`);
  }
  await untilInterrupted();
  await forward.close();
  return 0;
}
