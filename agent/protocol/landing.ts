import { z } from 'zod';

// The landing on the wire (docs/fidelity.md, "Finish: the move to metal"): the rescue system's live network as
// finish reads it, the choices `finish` offers for the installed system's network and boot entry, and every
// file it changes in the installed system.

// An address with its prefix length, as `ip -j addr` shows it.
export const IpAddress = z.object({
  address: z.string().max(64),
  prefix: z.number().int().min(0).max(128),
});
export type IpAddress = z.infer<typeof IpAddress>;

// The rescue system's live network configuration: the truth about the server's NIC and its addresses.
export const RescueNetwork = z.object({
  iface: z.string().max(32), // the interface carrying the default route in the rescue system
  mac: z.string().max(32),
  // bond, bridge, vlan ... when the interface is not a plain NIC (finish then writes nothing: reported)
  kind: z.string().max(32).optional(),
  ipv4: z.array(IpAddress).max(64),
  // onLink: the gateway lies outside every IPv4 subnet of the NIC (a /32 or a /29 with the provider's
  // gateway elsewhere), or the route is marked onlink: the installed system needs an on-link route to it.
  gateway4: z.object({ address: z.string().max(64), onLink: z.boolean() }).optional(),
  // global addresses only; dynamic: learnt from router advertisements (SLAAC), not configured
  ipv6: z.array(IpAddress.extend({ dynamic: z.boolean() })).max(64),
  gateway6: z.string().max(64).optional(),
  dns: z.array(z.string().max(64)).max(16),
  search: z.array(z.string().max(255)).max(16),
  notes: z.array(z.string().max(500)).max(32), // what was left out and why (loopback resolvers, extra NICs ...)
});
export type RescueNetwork = z.infer<typeof RescueNetwork>;

// What finish writes for the installed system's network: the rescue system's addresses (static, matched by
// MAC), DHCP on the NIC matched by MAC, or nothing.
export const NETWORK_MODES = ['rescue', 'dhcp', 'keep'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

// How the server's firmware is made to start the installed system: an NVRAM entry (efibootmgr), the
// removable-media path \EFI\BOOT\BOOTX64.EFI (firmware or providers that ignore or forbid NVRAM entries), or nothing.
export const BOOT_ENTRY_POLICIES = ['nvram', 'fallback', 'none'] as const;
export type BootEntryPolicy = (typeof BOOT_ENTRY_POLICIES)[number];

// The network stacks finish recognises in an installed system by what it enables.
export const NETWORK_STACKS = ['netplan', 'network-manager', 'systemd-networkd', 'ifupdown'] as const;
export type NetworkStack = (typeof NETWORK_STACKS)[number];

// One file finish wrote into the installed system (path inside it), with digests of what it holds now and,
// when it replaced something, of what was there.
export const FileChange = z.object({
  path: z.string().max(500),
  action: z.enum(['created', 'replaced', 'unchanged']),
  mode: z.string().max(8), // octal, e.g. '0600'
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  previousSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  why: z.string().max(500),
});
export type FileChange = z.infer<typeof FileChange>;

// What the plan says finish will do with the network (the default, and the rescue network it would write).
export const PlanLanding = z.object({
  network: z.enum(NETWORK_MODES),
  reason: z.string(),
  rescue: RescueNetwork.optional(),
  problem: z.string().optional(), // why the rescue network could not be read
});
export type PlanLanding = z.infer<typeof PlanLanding>;
