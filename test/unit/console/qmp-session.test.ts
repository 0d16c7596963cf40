import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QmpSession } from '../../../agent/console/index.js';
import { QmpClient } from '../../../agent/qmp/index.js';
import { silentLog } from '../api/fixtures.js';
import { startFakeQmp, type FakeQmpConn, type FakeQmpServer } from '../qmp/fake-qmp-server.js';

// One client session over the shared QMP client, with what it was sent.
function session(qmp: QmpClient, opts: { maxInFlight?: number } = {}) {
  const sent: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const s = new QmpSession({
    qmp,
    policy: { jobDir: '/run/xepa/jobs/job-1', mediaDirs: [] },
    send: (m) => {
      sent.push(m);
      for (const w of waiters.splice(0)) w();
    },
    log: silentLog(),
    maxInFlight: opts.maxInFlight ?? 16,
    maxMessageBytes: 4096,
  });
  // Resolves once `n` messages have been sent to this client.
  const until = async (n: number): Promise<Record<string, unknown>[]> => {
    while (sent.length < n) await new Promise<void>((r) => waiters.push(r));
    return sent;
  };
  const say = (o: unknown): void => s.receive(Buffer.from(JSON.stringify(o)));
  return { s, sent, until, say };
}

describe('QMP session over the shared connection', () => {
  let fake: FakeQmpServer;
  let qmp: QmpClient;
  let held: { msg: Record<string, unknown>; conn: FakeQmpConn }[] = [];

  beforeAll(async () => {
    fake = await startFakeQmp((msg, conn) => {
      switch (msg.execute) {
        case 'query-status':
          return conn.send({ return: { status: 'running', running: true }, id: msg.id });
        case 'query-name':
          return conn.send({ return: { name: 'xepa-job-1' }, id: msg.id });
        case 'system_reset':
          return conn.send({ error: { class: 'GenericError', desc: 'reset refused by fake' }, id: msg.id });
        case 'stop':
          conn.send({ return: {}, id: msg.id });
          return conn.send({ event: 'STOP', data: {}, timestamp: { seconds: 1, microseconds: 2 } });
        case 'query-block':
          held.push({ msg, conn }); // answered later by the test
      }
    });
    qmp = await QmpClient.connect(fake.path, { log: silentLog() });
  });
  afterAll(async () => {
    await qmp.close();
    await fake.close();
  });

  it('greets like QEMU and insists on capabilities negotiation first', async () => {
    const c = session(qmp);
    c.s.start();
    c.say({ execute: 'query-status', id: 'early' });
    c.say({ execute: 'qmp_capabilities', id: 'cap' });
    const sent = await c.until(3);
    expect(sent[0]).toEqual({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'fake' }, capabilities: [] } });
    expect(sent[1]).toMatchObject({ error: { class: 'CommandNotFound' }, id: 'early' });
    expect(sent[2]).toEqual({ return: {}, id: 'cap' });
    c.s.close();
  });

  it('answers each client with its own reply under its own id, even when two clients use the same id', async () => {
    const a = session(qmp);
    const b = session(qmp);
    for (const c of [a, b]) {
      c.s.start();
      c.say({ execute: 'qmp_capabilities' });
    }
    a.say({ execute: 'query-status', id: 1 });
    b.say({ execute: 'query-name', id: 1 });
    expect((await a.until(3))[2]).toEqual({ return: { status: 'running', running: true }, id: 1 });
    expect((await b.until(3))[2]).toEqual({ return: { name: 'xepa-job-1' }, id: 1 });
    // QEMU saw the supervisor's ids, never the clients'.
    const ids = fake.received.filter((m) => m.execute === 'query-status' || m.execute === 'query-name').map((m) => m.id);
    expect(ids.every((id) => typeof id === 'string' && id.startsWith('xepa-'))).toBe(true);
    a.s.close();
    b.s.close();
  });

  it('refuses a command outside the allow-list with a GenericError, without sending it to QEMU', async () => {
    const c = session(qmp);
    c.s.start();
    c.say({ execute: 'qmp_capabilities' });
    c.say({ execute: 'human-monitor-command', arguments: { 'command-line': 'info registers' }, id: 'hmp' });
    const sent = await c.until(3);
    expect(sent[2]).toMatchObject({ error: { class: 'GenericError' }, id: 'hmp' });
    expect(String((sent[2]!.error as { desc: string }).desc)).toMatch(/ERR_FORBIDDEN/);
    expect(fake.received.some((m) => m.execute === 'human-monitor-command')).toBe(false);
    c.s.close();
  });

  it("passes QEMU's own errors through with their class and description", async () => {
    const c = session(qmp);
    c.s.start();
    c.say({ execute: 'qmp_capabilities' });
    c.say({ execute: 'system_reset', id: 7 });
    expect((await c.until(3))[2]).toEqual({ error: { class: 'GenericError', desc: 'reset refused by fake' }, id: 7 });
    c.s.close();
  });

  it('fans events out to every negotiated session and not to one still negotiating', async () => {
    const a = session(qmp);
    const b = session(qmp);
    const pending = session(qmp);
    for (const c of [a, b, pending]) c.s.start();
    a.say({ execute: 'qmp_capabilities' });
    b.say({ execute: 'qmp_capabilities' });
    await a.until(2);
    await b.until(2);
    a.say({ execute: 'stop', id: 's' });
    const event = { event: 'STOP', data: {}, timestamp: { seconds: 1, microseconds: 2 } };
    expect(await a.until(4)).toContainEqual(event);
    expect(await b.until(3)).toContainEqual(event);
    expect(pending.sent).toHaveLength(1); // the greeting only
    for (const c of [a, b, pending]) c.s.close();
  });

  it('answers query-commands itself with the allow-list', async () => {
    const c = session(qmp);
    c.s.start();
    c.say({ execute: 'qmp_capabilities' });
    c.say({ execute: 'query-commands', id: 'q' });
    const names = ((await c.until(3))[2]!.return as { name: string }[]).map((x) => x.name);
    expect(names).toContain('system_powerdown');
    expect(names).not.toContain('human-monitor-command');
    c.s.close();
  });

  it('limits how many commands one client may have waiting for QEMU', async () => {
    held = [];
    const c = session(qmp, { maxInFlight: 2 });
    c.s.start();
    c.say({ execute: 'qmp_capabilities' });
    for (const id of [1, 2, 3]) c.say({ execute: 'query-block', id });
    const sent = await c.until(3);
    expect(sent[2]).toMatchObject({ id: 3, error: { class: 'GenericError' } });
    while (held.length < 2) await new Promise((r) => setTimeout(r, 5));
    for (const h of held) h.conn.send({ return: [], id: h.msg.id });
    const all = await c.until(5);
    expect(all.slice(3)).toEqual([{ return: [], id: 1 }, { return: [], id: 2 }]);
    c.s.close();
  });

  it('answers malformed input like QEMU does and keeps the session usable', async () => {
    const c = session(qmp);
    c.s.start();
    c.s.receive(Buffer.from('nonsense {"execute":"qmp_capabilities","id":1} {"id":2}'));
    const sent = await c.until(4);
    expect(sent[1]).toMatchObject({ error: { class: 'GenericError' } });
    expect(sent[2]).toEqual({ return: {}, id: 1 });
    expect(sent[3]).toMatchObject({ error: { desc: "QMP input lacks member 'execute'" }, id: 2 });
    c.s.close();
  });
});
