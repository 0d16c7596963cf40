// The names, addresses and nftables rules of one job's guest network namespace (docs/reliability.md,
// "Attack classes"). Pure: guest-net.ts applies them.

// Per-job /30 links are carved from 100.126.0.0/15 (inside the shared address space of RFC 6598, which a
// rescue system's own networks do not use): 32 768 slots.
const BASE = (100 << 24) | (126 << 16);
// How many jobs can hold an isolated guest network at once.
export const GUEST_NET_SLOTS = 32_768;

// What one slot is called and addressed as: the job's netns, the veth pair, the /30, the nftables table.
export interface GuestNetNames {
  netns: string;
  /** The veth end in the rescue system's namespace. */
  hostIf: string;
  /** The veth end inside the job's namespace (QEMU's slirp connects out through it). */
  guestIf: string;
  hostAddr: string;
  nsAddr: string;
  table: string;
}

// The names and addresses of `slot` for job `jobId`. Interface names stay under Linux's 15 characters.
export function guestNetNames(jobId: string, slot: number): GuestNetNames {
  if (!Number.isInteger(slot) || slot < 0 || slot >= GUEST_NET_SLOTS) throw new RangeError(`guest network slot ${slot} out of range`);
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(jobId)) throw new RangeError(`job id ${JSON.stringify(jobId)} cannot name a network namespace`);
  const net = BASE + slot * 4;
  return { netns: `xepa-${jobId}`, hostIf: `xvh${slot}`, guestIf: `xvg${slot}`, hostAddr: ipv4(net + 1), nsAddr: ipv4(net + 2), table: `xepa_guest_${slot}` };
}

/**
 * The nftables table the rescue system gets for one job: nothing that arrives from the job's veth reaches the
 * rescue system itself (every one of its addresses, the agent's port included: TCP is reset, the rest refused),
 * nothing new enters the namespace from outside, and what leaves it for elsewhere is masqueraded (outbound NAT).
 */
export function guestNetRules(n: GuestNetNames): string {
  return [
    `table inet ${n.table} {`,
    '  chain input {',
    '    type filter hook input priority filter - 10; policy accept;',
    `    iifname "${n.hostIf}" meta l4proto tcp reject with tcp reset`,
    `    iifname "${n.hostIf}" reject with icmpx type admin-prohibited`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter - 10; policy accept;',
    `    oifname "${n.hostIf}" ct state established,related accept`,
    `    oifname "${n.hostIf}" drop`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${n.nsAddr} oifname != "${n.hostIf}" masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

// The table that keeps the rescue system from routing anything but the guests' traffic while the agent has
// turned IPv4 forwarding on for them (it was off: a rescue system is not a router).
export const FORWARD_GUARD_TABLE = 'xepa_forward_guard';

// The guard table's rules: forwarded packets that neither come from nor go to a job's veth are dropped.
export function forwardGuardRules(): string {
  return [
    `table inet ${FORWARD_GUARD_TABLE} {`,
    '  chain forward {',
    '    type filter hook forward priority filter - 20; policy accept;',
    '    iifname != "xvh*" oifname != "xvh*" drop',
    '  }',
    '}',
    '',
  ].join('\n');
}

function ipv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}
