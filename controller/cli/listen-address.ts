import { XepaError } from '../../agent/protocol/index.js';

/** Where a local forward listens: a TCP address, or a unix socket path. */
export type ListenAddress = { host: string; port: number } | { path: string };

// Parses --listen: PORT (on --bind, default 127.0.0.1), HOST:PORT or [V6]:PORT (TCP), or a path with a slash (a
// unix socket). Anything else is refused rather than guessed: "127.0.0.1:4444" must never become a file name.
export function parseListenAddress(text: string, bind?: string): ListenAddress {
  const port = (p: string): number => {
    const n = Number(p);
    if (!/^\d{1,5}$/.test(p) || n > 65535) throw new XepaError('ERR_BAD_REQUEST', `--listen ${text}: ${p} is not a TCP port (0-65535)`);
    return n;
  };
  if (text.includes('/')) {
    if (bind !== undefined) throw new XepaError('ERR_BAD_REQUEST', `--bind goes with a TCP port, not with the unix socket path ${text}`);
    return { path: text };
  }
  if (/^\d+$/.test(text)) return { host: bind ?? '127.0.0.1', port: port(text) };
  const hostPort = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(text) ?? /^([A-Za-z0-9.-]+):(\d+)$/.exec(text);
  if (hostPort) {
    if (bind !== undefined) throw new XepaError('ERR_BAD_REQUEST', `--listen ${text} names its address already: drop --bind ${bind}`);
    return { host: hostPort[1]!, port: port(hostPort[2]!) };
  }
  throw new XepaError(
    'ERR_BAD_REQUEST',
    `--listen ${text} is neither a port, HOST:PORT ([::1]:PORT for IPv6) nor a path: write a unix socket path with a slash (./${text})`,
  );
}

