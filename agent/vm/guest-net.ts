import { readFile, rm, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { XepaError } from '../protocol/index.js';
import { FORWARD_GUARD_TABLE, GUEST_NET_SLOTS, forwardGuardRules, guestNetNames, guestNetRules, type GuestNetNames } from './guest-net-rules.js';

// Runs a host tool to completion; never rejects on a non-zero exit (ERR_TOOL_MISSING when it is not installed).
// agent/fidelity's createToolRunner is one.
export type NetToolRunner = (cmd: string, args: string[], opts?: { input?: string }) => Promise<{ code: number; stdout: string; stderr: string }>;

// What GuestNetworks needs from the outside world.
export interface GuestNetworksDeps {
  run: NetToolRunner;
  log?: Logger;
  /** The named network namespace that plays the rescue system (tests); default: the agent's own. */
  hostNetns?: string;
}

// One job's isolated guest network: QEMU runs in `netns` (VmSpec.netns); release() takes it all down again.
export interface GuestNetwork {
  netns: string;
  names: GuestNetNames;
  release(): Promise<void>;
}

/**
 * Per-job network namespaces for QEMU's user networking (docs/reliability.md, "Attack classes"): slirp inside
 * a fresh namespace maps the guest's gateway to that namespace's empty loopback; the namespace reaches out
 * through a veth pair that the rescue system masquerades and filters (nothing from it reaches any of the rescue
 * system's own addresses). Every step is undone by release(), and a failed setup undoes what it did.
 */
export class GuestNetworks {
  private readonly used = new Set<number>();
  private forwardUsers = 0;
  private forwardTurnedOn = false;
  private forwardLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: GuestNetworksDeps) {}

  // Creates job `jobId`'s namespace, veth pair, addresses, route and filter. Throws ERR_TOOL_MISSING when ip,
  // nft or sysctl is absent and ERR_UNAVAILABLE when a step fails (the error names the step and the tool's words).
  // With `record`, the slot and the forwarding state are written there (mode 0600) so that recover() can take
  // the network down after the agent died holding it.
  async isolate(jobId: string, record?: string): Promise<GuestNetwork> {
    const slot = this.takeSlot();
    const n = guestNetNames(jobId, slot);
    let forward = false;
    const undo = async (): Promise<void> => {
      const problems = await this.teardown(n);
      if (forward) problems.push(...(await this.releaseForwarding()));
      this.used.delete(slot);
      if (problems.length > 0) throw new XepaError('ERR_UNAVAILABLE', `tearing down the guest network of ${jobId} left: ${problems.join('; ')}`);
    };
    try {
      await this.teardown(n); // leftovers of an agent that died holding this slot
      await this.must('creating the job network namespace', 'ip', ['netns', 'add', n.netns]);
      await this.must('raising its loopback', 'ip', ['-n', n.netns, 'link', 'set', 'lo', 'up']);
      await this.mustHost('creating the veth pair', 'ip', ['link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', n.guestIf, 'netns', n.netns]);
      await this.mustHost('addressing the host end', 'ip', ['addr', 'add', `${n.hostAddr}/30`, 'dev', n.hostIf]);
      await this.mustHost('raising the host end', 'ip', ['link', 'set', n.hostIf, 'up']);
      await this.must('addressing the namespace end', 'ip', ['-n', n.netns, 'addr', 'add', `${n.nsAddr}/30`, 'dev', n.guestIf]);
      await this.must('raising the namespace end', 'ip', ['-n', n.netns, 'link', 'set', n.guestIf, 'up']);
      await this.must('routing the namespace out', 'ip', ['-n', n.netns, 'route', 'add', 'default', 'via', n.hostAddr]);
      await this.mustHost('loading the filter and NAT rules', 'nft', ['-f', '-'], guestNetRules(n));
      forward = true;
      await this.acquireForwarding();
      if (record) await writeFile(record, JSON.stringify({ slot, forwardTurnedOn: this.forwardTurnedOn }), { mode: 0o600 });
    } catch (err) {
      await undo().catch((e: unknown) => this.deps.log?.warn({ err: e }, 'undoing a failed guest network left something'));
      throw err;
    }
    this.deps.log?.info({ job: jobId, netns: n.netns, hostIf: n.hostIf, nsAddr: n.nsAddr }, 'guest network isolated');
    let released: Promise<void> | undefined;
    return { netns: n.netns, names: n, release: () => (released ??= undo()) };
  }

  // Takes down what an agent that died left of job `jobId`'s network (from the file isolate() wrote): its
  // table, namespace and veth; and, when that agent had turned IPv4 forwarding on and no guest network is left,
  // forwarding off and the guard table away. Nothing to do without the file.
  async recover(jobId: string, record: string): Promise<void> {
    let saved: { slot: number; forwardTurnedOn: boolean };
    try {
      saved = JSON.parse(await readFile(record, 'utf8')) as typeof saved;
    } catch {
      return;
    }
    const problems = await this.teardown(guestNetNames(jobId, saved.slot));
    const tables = await this.host('nft', ['list', 'tables', 'inet']);
    if (saved.forwardTurnedOn && this.forwardUsers === 0 && tables.code === 0 && !/\bxepa_guest_\d+\b/.test(tables.stdout)) {
      this.forwardTurnedOn = true; // what the dead agent did, undone as the last guest out would have
      this.forwardUsers = 1;
      problems.push(...(await this.releaseForwarding()));
    }
    if (problems.length > 0) throw new XepaError('ERR_UNAVAILABLE', `recovering the guest network of ${jobId} left: ${problems.join('; ')}`);
    await rm(record, { force: true });
  }

  private takeSlot(): number {
    for (let s = 0; s < GUEST_NET_SLOTS; s++) {
      if (!this.used.has(s)) {
        this.used.add(s);
        return s;
      }
    }
    throw new XepaError('ERR_UNAVAILABLE', `all ${GUEST_NET_SLOTS} guest network slots are in use`);
  }

  // Removes the table, the namespace (its veth end takes the host end along) and a stray host end; returns problems.
  private async teardown(n: GuestNetNames): Promise<string[]> {
    const problems: string[] = [];
    const tables = await this.host('nft', ['list', 'tables', 'inet']);
    if (tables.code === 0 && new RegExp(`\\b${n.table}\\b`).test(tables.stdout)) {
      const r = await this.host('nft', ['delete', 'table', 'inet', n.table]);
      if (r.code !== 0) problems.push(`nftables table ${n.table}: ${lastLine(r.stderr)}`);
    }
    const spaces = await this.deps.run('ip', ['netns', 'list']);
    if (spaces.code === 0 && spaces.stdout.split('\n').some((l) => l.split(' ')[0] === n.netns)) {
      const r = await this.deps.run('ip', ['netns', 'del', n.netns]);
      if (r.code !== 0) problems.push(`network namespace ${n.netns}: ${lastLine(r.stderr)}`);
    }
    const link = await this.host('ip', ['link', 'show', 'dev', n.hostIf]);
    if (link.code === 0) {
      const r = await this.host('ip', ['link', 'del', 'dev', n.hostIf]);
      if (r.code !== 0) problems.push(`interface ${n.hostIf}: ${lastLine(r.stderr)}`);
    }
    return problems;
  }

  // IPv4 forwarding on for the guests; when it was off, the guard table first keeps everything else unrouted.
  private acquireForwarding(): Promise<void> {
    return this.serialized(async () => {
      if (this.forwardUsers === 0) {
        const now = await this.mustHost('reading net.ipv4.ip_forward', 'sysctl', ['-n', 'net.ipv4.ip_forward']);
        if (now.stdout.trim() !== '1') {
          await this.mustHost('loading the forwarding guard', 'nft', ['-f', '-'], forwardGuardRules());
          await this.mustHost('turning IPv4 forwarding on', 'sysctl', ['-w', 'net.ipv4.ip_forward=1']);
          this.forwardTurnedOn = true;
        }
      }
      this.forwardUsers++;
    });
  }

  // The last guest out turns forwarding off again (when the agent turned it on) and drops the guard.
  private releaseForwarding(): Promise<string[]> {
    return this.serialized(async () => {
      this.forwardUsers = Math.max(0, this.forwardUsers - 1);
      if (this.forwardUsers > 0 || !this.forwardTurnedOn) return [];
      const problems: string[] = [];
      const off = await this.host('sysctl', ['-w', 'net.ipv4.ip_forward=0']);
      if (off.code !== 0) problems.push(`net.ipv4.ip_forward: ${lastLine(off.stderr)}`);
      const guard = await this.host('nft', ['delete', 'table', 'inet', FORWARD_GUARD_TABLE]);
      if (guard.code !== 0) problems.push(`nftables table ${FORWARD_GUARD_TABLE}: ${lastLine(guard.stderr)}`);
      this.forwardTurnedOn = false;
      return problems;
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.forwardLock.then(fn, fn);
    this.forwardLock = next.catch(() => undefined);
    return next;
  }

  // A tool in the rescue system's namespace (the test's stand-in namespace when hostNetns is set).
  private host(cmd: string, args: string[], input?: string): ReturnType<NetToolRunner> {
    const ns = this.deps.hostNetns;
    const opts = input === undefined ? undefined : { input };
    return ns ? this.deps.run('ip', ['netns', 'exec', ns, cmd, ...args], opts) : this.deps.run(cmd, args, opts);
  }

  private async mustHost(step: string, cmd: string, args: string[], input?: string): Promise<{ stdout: string }> {
    return checked(step, cmd, await this.host(cmd, args, input));
  }

  private async must(step: string, cmd: string, args: string[]): Promise<{ stdout: string }> {
    return checked(step, cmd, await this.deps.run(cmd, args));
  }
}

function checked(step: string, cmd: string, r: { code: number; stdout: string; stderr: string }): { stdout: string } {
  if (r.code === 0) return r;
  throw new XepaError('ERR_UNAVAILABLE', `guest network isolation: ${step} failed (${cmd} exit ${r.code}): ${lastLine(r.stderr)}`, { details: { tool: cmd, exitCode: r.code } });
}


function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
