// Any ISO by URL and digest: the operator adds releases with `xepa vendor add generic@NAME --url ... --sha256 ...`.
import type { OsModuleInput } from './schema.js';

// The generic module: no upstream to poll; validation is manual unless the config sets iso-install or iso-boot.
export const generic: OsModuleInput = {
  name: 'generic',
  title: 'Any ISO (by URL and digest)',
  notes: 'Releases are named by the operator. An unknown installer cannot be judged automatically, so a release stays ' +
    'candidate until `xepa vendor promote`, unless the vendor config gives this module an iso-install or iso-boot validation.',
  boot: { method: 'iso', iso: 'image.iso' },
  files: [{ name: 'image.iso', role: 'iso', from: { kind: 'given' } }],
  upstream: { source: { kind: 'manual' }, checksums: { kind: 'given' } },
  validation: { kind: 'manual' },
};
