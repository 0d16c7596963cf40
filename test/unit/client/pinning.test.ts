import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentServer, type AgentServer } from '../../../agent/api/server.js';
import { connectAgent, fetchAgentIdentity } from '../../../controller/client/index.js';
import { AGENT_ID, FakeJobs, agentServerOptions, controllerKeys, testIdentity, tokenFor } from '../api/fixtures.js';
import { waitFor } from '../../support/wait-for.js';

const WRONG = 'AB:'.repeat(31) + 'AB';
const keys = controllerKeys();
let recorder: Server;
let recorderPort: number;
const seen: Record<string, unknown>[] = [];
let hungUp = 0; // TCP connections to the recorder that have closed: after that, nothing more can arrive on them
let agent: AgentServer;
let fingerprint: string;

beforeAll(async () => {
  const id = await testIdentity();
  fingerprint = id.fingerprint;
  // Records the headers of every request or upgrade that reaches it, then hangs up.
  recorder = createServer({ key: id.key, cert: id.cert }, (req, res) => {
    seen.push({ ...req.headers });
    res.end('{}');
  });
  recorder.on('upgrade', (req, socket) => {
    seen.push({ ...req.headers });
    socket.destroy();
  });
  recorder.on('connection', (socket) => socket.once('close', () => hungUp++));
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  recorderPort = (recorder.address() as AddressInfo).port;
  agent = await startAgentServer(agentServerOptions(id, keys, new FakeJobs().handlers(), '9.9.9'));
});
afterAll(async () => {
  recorder.closeAllConnections();
  await new Promise((r) => recorder.close(r));
  await agent.close();
});

describe('TLS pinning', () => {
  it('refuses a wrong fingerprint with ERR_TLS_PIN before the upgrade request carrying the token is written', async () => {
    const token = tokenFor(keys);
    seen.length = 0;
    const before = hungUp;
    const err = await connectAgent({ url: `wss://127.0.0.1:${recorderPort}`, fingerprint: WRONG, token: () => token }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_TLS_PIN' });
    await waitFor(() => hungUp > before, { what: 'the recorder to see the refused connection close' });
    expect(seen).toEqual([]);
  });

  it('does send the token once the fingerprint matches (the recorder would have seen a leak)', async () => {
    const token = tokenFor(keys);
    seen.length = 0;
    await connectAgent({ url: `wss://127.0.0.1:${recorderPort}`, fingerprint, token: () => token, reconnect: false }).catch(() => undefined);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.authorization).toBe(`Bearer ${token}`);
  });

  it('fetches the agent identity over a pinned connection, fingerprint in any case and without colons', async () => {
    const id = await fetchAgentIdentity({ url: `https://127.0.0.1:${agent.port}`, fingerprint: fingerprint.replace(/:/g, '').toLowerCase() });
    expect(id).toEqual({ agentId: AGENT_ID, version: '9.9.9', protocol: 1, fingerprint });
  });

  it('refuses to fetch the identity of an agent with another certificate', async () => {
    seen.length = 0;
    const before = hungUp;
    await expect(fetchAgentIdentity({ url: `https://127.0.0.1:${recorderPort}`, fingerprint: WRONG })).rejects.toMatchObject({ code: 'ERR_TLS_PIN' });
    await waitFor(() => hungUp > before, { what: 'the recorder to see the refused connection close' });
    expect(seen).toEqual([]);
  });

  it('reports a refused token on the first connection as ERR_UNAUTHORIZED', async () => {
    const other = controllerKeys();
    await expect(
      connectAgent({ url: `wss://127.0.0.1:${agent.port}`, fingerprint, token: () => tokenFor(other) }),
    ).rejects.toMatchObject({ code: 'ERR_UNAUTHORIZED' });
  });

  it('reports an unreachable agent as ERR_CONNECT', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    await expect(connectAgent({ url: `wss://127.0.0.1:${port}`, fingerprint, token: () => 'x' })).rejects.toMatchObject({ code: 'ERR_CONNECT' });
  });

  it('refuses a plain ws:// URL with ERR_CONFIG', async () => {
    await expect(connectAgent({ url: `ws://127.0.0.1:${agent.port}`, fingerprint, token: () => 'x' })).rejects.toMatchObject({ code: 'ERR_CONFIG' });
  });
});
