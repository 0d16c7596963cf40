// The catalog document's schema: the server builds it, `xepa install --os` validates it on the way in.
import { z } from 'zod';

const CatalogFile = z.object({ name: z.string(), role: z.string(), size: z.number(), sha256: z.string().regex(/^[0-9a-f]{64}$/), url: z.string(), origin: z.string().optional() });

// One release as the catalog lists it.
export const CatalogRelease = z.object({
  version: z.string(),
  status: z.string(),
  channels: z.array(z.string()),
  addedAt: z.string(),
  promotedAt: z.string().optional(),
  validation: z.object({ status: z.string(), kind: z.string(), level: z.string().optional(), at: z.string(), reason: z.string().optional() }).optional(),
  rejection: z.object({ code: z.string(), reason: z.string() }).optional(),
  files: z.array(CatalogFile),
  installIso: z.object({ name: z.string(), url: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number() }).optional(),
  ipxe: z.string().optional(),
});
export type CatalogRelease = z.infer<typeof CatalogRelease>;

// One OS in the catalog.
export const CatalogOs = z.object({
  name: z.string(),
  title: z.string(),
  homepage: z.string().optional(),
  notes: z.string().optional(),
  boot: z.enum(['iso', 'kernel-initrd']),
  validation: z.string(),
  promoteAt: z.string().optional(), // the policy: the lowest validation level that promotes
  upstream: z.object({ source: z.string(), checksums: z.string(), signature: z.record(z.unknown()) }),
  channels: z.object({ stable: z.string().optional(), previous: z.string().optional(), candidate: z.string().optional() }),
  releases: z.array(CatalogRelease),
});
export type CatalogOs = z.infer<typeof CatalogOs>;

// The catalog.
export const CatalogDoc = z.object({
  catalog: z.literal(1),
  generatedAt: z.string(),
  baseUrl: z.string(),
  os: z.array(CatalogOs),
  errors: z.array(z.object({ module: z.string(), source: z.string(), message: z.string() })),
});
export type CatalogDoc = z.infer<typeof CatalogDoc>;
