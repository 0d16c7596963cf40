import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../../controller/cli/listen-address.js';
import { runCli } from '../../../controller/cli/main.js';
import { captureOutput } from '../../support/capture.js';
import { codeOf } from '../../support/error-code.js';

describe('--listen of xepa qmp', () => {
  it('takes a port on loopback, or on --bind', () => {
    expect(parseListenAddress('4444')).toEqual({ host: '127.0.0.1', port: 4444 });
    expect(parseListenAddress('0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('4444', '0.0.0.0')).toEqual({ host: '0.0.0.0', port: 4444 });
  });

  it('takes HOST:PORT as TCP, IPv6 in brackets', () => {
    expect(parseListenAddress('127.0.0.1:4444')).toEqual({ host: '127.0.0.1', port: 4444 });
    expect(parseListenAddress('localhost:4444')).toEqual({ host: 'localhost', port: 4444 });
    expect(parseListenAddress('[::1]:4444')).toEqual({ host: '::1', port: 4444 });
  });

  it('takes a path with a slash as a unix socket', () => {
    expect(parseListenAddress('/tmp/qmp.sock')).toEqual({ path: '/tmp/qmp.sock' });
    expect(parseListenAddress('./qmp.sock')).toEqual({ path: './qmp.sock' });
    expect(parseListenAddress('./127.0.0.1:4444')).toEqual({ path: './127.0.0.1:4444' });
  });

  it('refuses what it would have to guess, with ERR_BAD_REQUEST', () => {
    for (const text of ['qmp.sock', '::1:4444', 'host:port', '127.0.0.1:99999', '70000', '']) {
      expect(codeOf(() => parseListenAddress(text)), text).toBe('ERR_BAD_REQUEST');
    }
  });

  it('refuses --bind beside an address that names its own, or beside a path', () => {
    expect(codeOf(() => parseListenAddress('127.0.0.1:4444', '0.0.0.0'))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => parseListenAddress('/tmp/q.sock', '0.0.0.0'))).toBe('ERR_BAD_REQUEST');
  });

  it('makes xepa qmp exit 2 before any connection, saying what to write instead', async () => {
    const o = captureOutput();
    // Port 1 on loopback: nothing listens there, so a connection attempt would fail with another code.
    const code = await runCli(['qmp', '127.0.0.1:1', '--listen', 'qmp.sock', '--fingerprint', 'AB'.repeat(32)], o);
    expect(o.stderr()).toMatch(/ERR_BAD_REQUEST: --listen qmp\.sock .*\.\/qmp\.sock/);
    expect(code).toBe(2);
  });
});
