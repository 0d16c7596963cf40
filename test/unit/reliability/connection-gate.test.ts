import { describe, expect, it } from 'vitest';
import { ConnectionGate, type PeerEndpoints } from '../../../agent/api/connection-gate.js';
import { codeOf } from '../../support/error-code.js';

// The gate as the server drives it: connections enter the unauthenticated pool at accept, with an evict callback;
// they leave when they upgrade (by their endpoints) or close (by the returned function). The clock is injected.
let port = 40000;
const peer = (remoteAddress: string): PeerEndpoints => ({ remoteAddress, remotePort: port++, localAddress: '10.250.0.1', localPort: 7443 });

function connection(gate: ConnectionGate, address: string): { p: PeerEndpoints; evicted: () => boolean; close: () => void } {
  const p = peer(address);
  let evicted = false;
  const close = gate.enterPending(p, () => (evicted = true));
  return { p, evicted: () => evicted, close };
}

describe('the unauthenticated pool of the gate', () => {
  it('evicts the oldest idle connection of a full source, counts it as source-limit, and keeps the newcomer', () => {
    const gate = new ConnectionGate({ maxPendingConnections: 10, maxPendingPerSource: 2, pendingGraceMs: 0 }, () => 0);
    const [a, b, c] = [connection(gate, '10.250.1.2'), connection(gate, '10.250.1.2'), connection(gate, '10.250.1.2')];
    expect([a.evicted(), b.evicted(), c.evicted()]).toEqual([true, false, false]);
    expect(gate.stats()).toMatchObject({ pending: 2, pendingSources: 1, refused: { 'source-limit': 1 } });
  });

  it('refuses the newcomer of a full source whose oldest connection is younger than the grace, then evicts once it is older', () => {
    let t = 0;
    const gate = new ConnectionGate({ maxPendingConnections: 10, maxPendingPerSource: 2, pendingGraceMs: 1000 }, () => t);
    const [a, b] = [connection(gate, '10.250.1.2'), connection(gate, '10.250.1.2')];
    t = 999;
    const early = connection(gate, '10.250.1.2');
    expect([a.evicted(), b.evicted(), early.evicted()]).toEqual([false, false, true]);
    t = 1000;
    const late = connection(gate, '10.250.1.2');
    expect([a.evicted(), b.evicted(), late.evicted()]).toEqual([true, false, false]);
    expect(gate.stats()).toMatchObject({ pending: 2, refused: { 'source-limit': 2 } });
  });

  it('evicts from the heaviest source when the pool is full (pending-limit), never a lone client of another source', () => {
    const gate = new ConnectionGate({ maxPendingConnections: 4, maxPendingPerSource: 4 }, () => 0);
    const legit = connection(gate, '10.250.2.2');
    const flood = Array.from({ length: 20 }, () => connection(gate, '10.250.1.2'));
    expect(legit.evicted()).toBe(false);
    expect(flood.filter((f) => f.evicted()).length).toBe(17);
    expect(gate.stats().refused['pending-limit']).toBe(17);
  });

  it('takes a connection out of the pool when it upgrades, so it can no longer be evicted', () => {
    const gate = new ConnectionGate({ maxPendingConnections: 2, maxPendingPerSource: 2 }, () => 0);
    const a = connection(gate, '10.250.1.2');
    gate.leavePending(a.p);
    const release = gate.admit('control');
    connection(gate, '10.250.1.2');
    connection(gate, '10.250.1.2');
    connection(gate, '10.250.1.2');
    expect(a.evicted()).toBe(false);
    expect(gate.stats()).toMatchObject({ pending: 2, open: { control: 1 } });
    release();
    expect(gate.stats().open.control).toBe(0);
  });

  it('keeps per-scope budgets apart from the pool: a full pool does not refuse an upgrade, a full scope does', () => {
    const gate = new ConnectionGate({ maxPendingConnections: 1, perScope: { shell: 1 } }, () => 0);
    for (let i = 0; i < 5; i++) connection(gate, `10.250.1.${i}`);
    const release = gate.admit('shell');
    expect(codeOf(() => gate.admit('shell'))).toBe('ERR_UNAVAILABLE');
    release();
  });

  it('frees the slot when a connection closes, and a late close of an evicted one frees nothing else', () => {
    const gate = new ConnectionGate({ maxPendingConnections: 2, maxPendingPerSource: 2 }, () => 0);
    const a = connection(gate, '10.250.1.2');
    const b = connection(gate, '10.250.1.3');
    b.close();
    expect(gate.stats().pending).toBe(1);
    connection(gate, '10.250.1.4');
    connection(gate, '10.250.1.5'); // evicts a, the oldest
    expect(a.evicted()).toBe(true);
    a.close();
    expect(gate.stats().pending).toBe(2);
  });

  it('closes at once a connection whose peer is already gone at accept', () => {
    const gate = new ConnectionGate({}, () => 0);
    let evicted = false;
    gate.enterPending({}, () => (evicted = true));
    expect(evicted).toBe(true);
    expect(gate.stats().pending).toBe(0);
  });
});
