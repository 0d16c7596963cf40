import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { AgentClient } from '../../../../controller/client/index.js';
import { loopDevicesUnder } from '../../../../controller/demo/loop-disk.js';
import { startHarness, type Harness } from './agent-harness.js';
import { killStrays } from './processes.js';

// What a test file holds until its end: a server (closed) or a loop disk (detached).
type Held = { close(): unknown } | { detach(): unknown };

/** A test file's agent: the work directory at once; the harness and the first controller once beforeAll ran. */
export interface AgentBench {
  readonly work: string;
  readonly h: Harness;
  readonly client: AgentClient;
  // Holds `r` until the file ends (released after the agent stopped, in the order held); returns it.
  hold<T extends Held>(r: T): T;
  // A further controller connection to the agent, closed at the end with the others.
  connect(): Promise<AgentClient>;
}

// The frame of a test file against the real agent bundle. Before all tests: a work directory, the agent started in
// it and, unless `connect` is false, a controller connected (`client`). After all of them: the controllers closed,
// the agent stopped, any VM a failed test left behind killed, what the file held released, no loop device left
// under the directory, the directory removed.
export function agentBench(prefix: string, o: { connect?: boolean } = {}): AgentBench {
  const work = mkdtempSync(join(tmpdir(), prefix));
  let harness: Harness | undefined;
  const clients: AgentClient[] = [];
  const held: Held[] = [];
  const bench: AgentBench = {
    work,
    get h(): Harness {
      if (!harness) throw new Error('the agent bench is used before its beforeAll ran');
      return harness;
    },
    get client(): AgentClient {
      const c = clients[0];
      if (!c) throw new Error(o.connect === false ? 'this agent bench connects no controller: use connect()' : 'the agent bench is used before its beforeAll ran');
      return c;
    },
    hold: (r) => {
      held.push(r);
      return r;
    },
    connect: async () => {
      const c = await bench.h.connect();
      clients.push(c);
      return c;
    },
  };
  beforeAll(async () => {
    harness = await startHarness(work);
    if (o.connect !== false) await bench.connect();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await harness?.agent.stop();
    await killStrays(work); // a VM a failed test left behind
    // A disk that does not detach stays a loop device under the work directory: the check below names it.
    for (const r of held) await ('close' in r ? r.close() : Promise.resolve(r.detach()).catch(() => undefined));
    expect(await loopDevicesUnder(work)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });
  return bench;
}
