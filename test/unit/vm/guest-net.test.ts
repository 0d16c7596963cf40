// The per-job guest network: names and rules (pure), and GuestNetworks against a fake `ip`/`nft`/`sysctl` that
// keeps the state those tools would change, so every test checks what is left behind.
import { describe, expect, it } from 'vitest';
import { XepaError } from '../../../agent/protocol/index.js';
import { GuestNetworks, buildQemuArgs, guestNetNames, guestNetRules, type NetToolRunner, type VmSpec } from '../../../agent/vm/index.js';
import { codeOf, codeOfAsync } from '../../support/error-code.js';

// What the fake tools keep: namespaces, host links, nftables tables, ip_forward; and every command line.
function fakeHost(o: { forward?: string; failOn?: RegExp; missing?: string } = {}) {
  const st = { netns: new Set<string>(), links: new Set<string>(), tables: new Set<string>(), forward: o.forward ?? '0', calls: [] as string[] };
  const ok = (stdout = '') => ({ code: 0, stdout, stderr: '' });
  const run: NetToolRunner = async (cmd, args, opts) => {
    const line = [cmd, ...args].join(' ');
    st.calls.push(line);
    // `ip netns exec NS tool ...` runs the tool in the host's stand-in namespace: same state here
    const [c, a] = cmd === 'ip' && args[0] === 'netns' && args[1] === 'exec' ? [args[3]!, args.slice(4)] : [cmd, args];
    if (c === o.missing) throw new XepaError('ERR_TOOL_MISSING', `${c} is not installed on this host`);
    if (o.failOn?.test(line)) return { code: 1, stdout: '', stderr: `${c}: refused by the test` };
    const s = a.join(' ');
    if (c === 'ip' && s === 'netns list') return ok([...st.netns].map((n) => `${n} (id: 0)`).join('\n'));
    if (c === 'ip' && a[0] === 'netns' && a[1] === 'add') return st.netns.add(a[2]!), ok();
    if (c === 'ip' && a[0] === 'netns' && a[1] === 'del') return st.netns.delete(a[2]!), ok();
    if (c === 'ip' && a[0] === 'link' && a[1] === 'add') return st.links.add(a[2]!), ok();
    if (c === 'ip' && a[0] === 'link' && a[1] === 'show') return st.links.has(a[3]!) ? ok() : { code: 1, stdout: '', stderr: 'does not exist' };
    if (c === 'ip' && a[0] === 'link' && a[1] === 'del') return st.links.delete(a[3]!), ok();
    if (c === 'nft' && s === 'list tables inet') return ok([...st.tables].map((t) => `table inet ${t}`).join('\n'));
    if (c === 'nft' && a[0] === '-f') {
      const table = /table inet (\S+)/.exec(String(opts?.input))![1]!;
      st.calls.push(`loaded ${table}`);
      return st.tables.add(table), ok();
    }
    if (c === 'nft' && a[0] === 'delete') return st.tables.delete(a[3]!), ok();
    if (c === 'sysctl' && a[0] === '-n') return ok(`${st.forward}\n`);
    if (c === 'sysctl' && a[0] === '-w') return (st.forward = a[1]!.split('=')[1]!), ok();
    return ok();
  };
  return { st, run, links: (): string[] => [...st.links] };
}

describe('guest network names and rules', () => {
  it('gives each slot its own /30 inside 100.126.0.0/15 and interface names under 15 characters', () => {
    expect(guestNetNames('job-1a2b3c4d', 0)).toEqual({ netns: 'xepa-job-1a2b3c4d', hostIf: 'xvh0', guestIf: 'xvg0', hostAddr: '100.126.0.1', nsAddr: '100.126.0.2', table: 'xepa_guest_0' });
    expect(guestNetNames('j', 32_767)).toMatchObject({ hostIf: 'xvh32767', hostAddr: '100.127.255.253', nsAddr: '100.127.255.254' });
    expect(() => guestNetNames('j', 32_768)).toThrow(RangeError);
    expect(() => guestNetNames('job 1; rm', 0)).toThrow(RangeError);
  });

  it('rejects everything from the job\'s veth at the rescue system\'s own addresses and masquerades only the namespace', () => {
    const rules = guestNetRules(guestNetNames('job-1', 3));
    expect(rules).toContain('type filter hook input priority filter - 10; policy accept;');
    expect(rules).toContain('iifname "xvh3" meta l4proto tcp reject with tcp reset');
    expect(rules).toContain('iifname "xvh3" reject with icmpx type admin-prohibited');
    expect(rules).toContain('oifname "xvh3" drop');
    expect(rules).toContain('ip saddr 100.126.0.14 oifname != "xvh3" masquerade');
  });

  it('puts the answer endpoint on slirp\'s guestfwd and refuses a socket path that would end its quoting', () => {
    const base: VmSpec = { name: 'g', accel: 'tcg', memoryMiB: 64, cpus: 1, firmware: { mode: 'bios' }, disks: [], sockets: { qmp: '/j/q', vnc: '/j/v', serial: ['/j/s0', '/j/s1'] } };
    const args = buildQemuArgs({ ...base, nics: [{ model: 'e1000e', answerSocket: '/j/answer,http.sock' }] });
    expect(args).toContain("user,id=net0,guestfwd=tcp:10.0.2.100:80-cmd:socat - UNIX-CONNECT:'/j/answer,,http.sock'");
    expect(codeOf(() => buildQemuArgs({ ...base, nics: [{ model: 'e1000e', answerSocket: "/j/a'; reboot '" }] }))).toBe('ERR_BAD_REQUEST');
    expect(codeOf(() => buildQemuArgs({ ...base, netns: 'a b' }))).toBe('ERR_BAD_REQUEST');
  });
});

describe('GuestNetworks', () => {
  it('builds the namespace, veth, rules and forwarding in the rescue system\'s namespace, and release leaves nothing', async () => {
    const h = fakeHost();
    const nets = new GuestNetworks({ run: h.run, hostNetns: 'rescue' });
    const net = await nets.isolate('job-1');
    expect(net.netns).toBe('xepa-job-1');
    expect([...h.st.netns, ...h.st.tables, h.st.forward]).toEqual(['xepa-job-1', 'xepa_guest_0', 'xepa_forward_guard', '1']);
    expect(h.st.calls).toContain('ip netns exec rescue ip link add xvh0 type veth peer name xvg0 netns xepa-job-1');
    expect(h.st.calls).toContain('ip -n xepa-job-1 route add default via 100.126.0.1');
    // the guard is in place before forwarding goes on
    expect(h.st.calls.indexOf('loaded xepa_forward_guard')).toBeGreaterThan(-1);
    expect(h.st.calls.indexOf('loaded xepa_forward_guard')).toBeLessThan(h.st.calls.indexOf('ip netns exec rescue sysctl -w net.ipv4.ip_forward=1'));
    await net.release();
    await net.release(); // once only
    expect([...h.st.netns, ...h.st.tables, ...h.links(), h.st.forward]).toEqual(['0']);
  });

  it('keeps forwarding on until the last of two jobs ends, and never touches a forwarding it did not turn on', async () => {
    const h = fakeHost();
    const nets = new GuestNetworks({ run: h.run });
    const [a, b] = await Promise.all([nets.isolate('job-a'), nets.isolate('job-b')]);
    expect(a.names.hostIf).not.toBe(b.names.hostIf);
    await a.release();
    expect(h.st.forward).toBe('1');
    await b.release();
    expect(h.st.forward).toBe('0');
    const router = fakeHost({ forward: '1' });
    const r = await new GuestNetworks({ run: router.run }).isolate('job-r');
    expect(router.st.tables.has('xepa_forward_guard')).toBe(false);
    await r.release();
    expect(router.st.forward).toBe('1');
  });

  it('fails ERR_UNAVAILABLE naming the step when a tool refuses, and undoes what it had done', async () => {
    const h = fakeHost({ failOn: /nft -f/ });
    const err = await new GuestNetworks({ run: h.run }).isolate('job-1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/loading the filter and NAT rules failed \(nft exit 1\): nft: refused by the test/);
    expect([...h.st.netns, ...h.st.tables, ...h.links(), h.st.forward]).toEqual(['0']);
  });

  it('passes ERR_TOOL_MISSING through when nft is not installed', async () => {
    const h = fakeHost({ missing: 'nft' });
    expect(await codeOfAsync(new GuestNetworks({ run: h.run }).isolate('job-1'))).toBe('ERR_TOOL_MISSING');
    expect([...h.st.netns]).toEqual([]);
  });

  it('removes a stale namespace, table and link left in its slot by an agent that died', async () => {
    const h = fakeHost();
    h.st.netns.add('xepa-job-old');
    h.st.tables.add('xepa_guest_0');
    h.st.links.add('xvh0');
    const net = await new GuestNetworks({ run: h.run }).isolate('job-old');
    expect(h.st.calls.slice(0, 6)).toEqual([
      'nft list tables inet', 'nft delete table inet xepa_guest_0', 'ip netns list', 'ip netns del xepa-job-old', 'ip link show dev xvh0', 'ip link del dev xvh0',
    ]);
    await net.release();
  });
});

describe('GuestNetworks.recover (an agent died while guests ran)', () => {
  it('takes down what the dead agent left of each job from its record, and forwarding with the last one', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'xepa-guest-net-'));
    const h = fakeHost({ forward: '0' });
    const dead = new GuestNetworks({ run: h.run });
    await dead.isolate('job-a', join(dir, 'a.json'));
    await dead.isolate('job-b', join(dir, 'b.json'));
    expect(h.st.forward).toBe('1');
    // the agent is gone (no release); a new one recovers job by job
    const next = new GuestNetworks({ run: h.run });
    await next.recover('job-a', join(dir, 'a.json'));
    expect([...h.st.netns]).toEqual(['xepa-job-b']);
    expect(h.st.forward).toBe('1'); // job-b's network is still there
    await next.recover('job-b', join(dir, 'b.json'));
    expect([...h.st.netns, ...h.links(), ...h.st.tables]).toEqual([]);
    expect(h.st.forward).toBe('0');
    await next.recover('job-b', join(dir, 'b.json')); // its record is gone: nothing to do
    expect(h.st.calls.at(-1)).not.toMatch(/sysctl/);
  });
});
