import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TLS_CERT_FILE, TLS_KEY_FILE, ensureTlsIdentity } from '../../../agent/api/index.js';
import { parseListen, startServe, type RunningServe } from '../../../controller/cli/commands/serve.js';
import { httpRequest, openWs } from './fake-agent.js';

const running: RunningServe[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
});

describe('xepa serve', () => {
  it('parses --listen as HOST:PORT, IPv6 in brackets', () => {
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('8080')).toThrow(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }));
    expect(() => parseListen('host:99999')).toThrow(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }));
  });

  it('refuses plain HTTP off loopback: session cookies would cross the network in clear', async () => {
    await expect(startServe({ host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });

  it('hands each request and upgrade to the first mount that takes it, 404 when none does', async () => {
    const s = await startServe({ host: '127.0.0.1', port: 0 });
    running.push(s);
    const port = Number(new URL(s.url).port);
    const seen: string[] = [];
    s.add({ name: 'vendor', request: (req, res) => (req.url?.startsWith('/vendor/') ? (seen.push('vendor'), res.end('v'), true) : false) });
    s.add({
      name: 'web',
      request: async (req, res) => (req.url === '/' ? (seen.push('web'), res.end('w'), true) : false),
      upgrade: (_req, socket) => (socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'), true),
    });
    expect((await httpRequest(port, 'GET', '/vendor/v1/x')).body).toBe('v');
    expect((await httpRequest(port, 'GET', '/')).body).toBe('w');
    expect((await httpRequest(port, 'GET', '/nothing')).status).toBe(404);
    expect(await openWs(port, '/ws/vnc', {})).toMatchObject({ status: 401 });
    expect(seen).toEqual(['vendor', 'web']);
  });

  it('serves over TLS with the given certificate, on any address', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xepa-serve-tls-'));
    try {
      const id = await ensureTlsIdentity(dir);
      const tls = { cert: await readFile(join(dir, TLS_CERT_FILE), 'utf8'), key: await readFile(join(dir, TLS_KEY_FILE), 'utf8') };
      const s = await startServe({ host: '127.0.0.1', port: 0, tls });
      running.push(s);
      expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      s.add({ name: 'web', request: (_req, res) => (res.end('over tls'), true) });
      const got = await new Promise<{ body: string; fingerprint: string | undefined }>((resolve, reject) => {
        const req = request(`${s.url}/`, { rejectUnauthorized: false }, (res) => {
          const fp = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()?.fingerprint256;
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve({ body, fingerprint: fp }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(got).toEqual({ body: 'over tls', fingerprint: id.fingerprint });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
