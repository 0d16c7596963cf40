// `xepa vendor verify`: recomputes the digest of every stored file the indexes name.
import type { Store } from './store.js';

// One file's verdict.
export interface VerifyResult {
  os: string;
  version: string;
  file: string;
  sha256: string;
  ok: boolean;
  reason?: string;
}

// Verifies every file of every release (of `only`, when given); each blob is hashed once.
export async function verifyStore(store: Store, only?: string, onFile?: (r: VerifyResult) => void): Promise<VerifyResult[]> {
  const seen = new Map<string, { ok: boolean; reason?: string }>();
  const out: VerifyResult[] = [];
  for (const os of only ? [only] : await store.listOs()) {
    const idx = await store.readIndex(os);
    for (const r of idx.releases) {
      for (const f of r.files) {
        let v = seen.get(f.sha256);
        if (!v) {
          v = await store.blobs.verify(f.sha256, f.size);
          seen.set(f.sha256, v);
        }
        const res: VerifyResult = { os, version: r.version, file: f.name, sha256: f.sha256, ok: v.ok, ...(v.reason ? { reason: v.reason } : {}) };
        out.push(res);
        onFile?.(res);
      }
    }
  }
  return out;
}
