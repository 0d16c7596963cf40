// Parses the checksum files upstreams publish: GNU (`HEX  name`, `HEX *name`), BSD (`SHA256 (name) = HEX`) and
// Flatcar's DIGESTS (sections of GNU lines for several algorithms; lines are told apart by digest length).
import { XepaError } from '../../../agent/protocol/index.js';

// An expected digest.
export interface Digest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

const HEX_LEN = { sha256: 64, sha512: 128 } as const;

// Maps file name (its last path component) to its digest, for one algorithm; other lines are ignored.
export function parseSums(text: string, algorithm: 'sha256' | 'sha512'): Map<string, string> {
  const len = HEX_LEN[algorithm];
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const bsd = /^(SHA256|SHA512)\s*\((.+)\)\s*=\s*([0-9a-fA-F]+)$/.exec(line);
    if (bsd) {
      if (bsd[1]!.toLowerCase() === algorithm && bsd[3]!.length === len) out.set(baseName(bsd[2]!), bsd[3]!.toLowerCase());
      continue;
    }
    const gnu = /^([0-9a-fA-F]+)\s+\*?(.+)$/.exec(line);
    if (gnu && gnu[1]!.length === len) out.set(baseName(gnu[2]!.trim()), gnu[1]!.toLowerCase());
  }
  return out;
}

// A per-file checksum document holds one digest (maybe followed by the name, maybe among other algorithms).
export function parseSingleSum(text: string, algorithm: 'sha256' | 'sha512', fileName: string): string | undefined {
  const named = parseSums(text, algorithm);
  const hit = named.get(fileName);
  if (hit) return hit;
  if (named.size === 1) return [...named.values()][0];
  const bare = new RegExp(`^[0-9a-fA-F]{${HEX_LEN[algorithm]}}$`);
  const only = text.split(/\s+/).filter((t) => bare.test(t));
  return only.length === 1 ? only[0]!.toLowerCase() : undefined;
}

// Reads an asset digest as APIs print it: `sha256:HEX` or bare HEX.
export function parseAssetDigest(value: unknown, algorithm: 'sha256' | 'sha512'): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(?:(sha256|sha512)[:-])?([0-9a-fA-F]+)$/.exec(value.trim());
  if (!m || (m[1] && m[1] !== algorithm) || m[2]!.length !== HEX_LEN[algorithm]) return undefined;
  return m[2]!.toLowerCase();
}

// The digest `sums` gives `fileName`, or ERR_FETCH_DIGEST naming what is missing.
export function requireDigest(sums: Map<string, string>, fileName: string, where: string): string {
  const hex = sums.get(fileName);
  if (!hex) throw new XepaError('ERR_FETCH_DIGEST', `${where} has no digest for ${fileName}: refusing to download an unverifiable file`);
  return hex;
}

function baseName(p: string): string {
  const parts = p.replace(/^\.\//, '').split('/');
  return parts[parts.length - 1]!;
}
