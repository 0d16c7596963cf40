import { XepaError } from './errors.js';

// Canonical SHA-256 certificate fingerprint ("AB:CD:..."), the form agents print and controllers pin:
// colons optional, any case, optional "sha256:" prefix.
export function normalizeFingerprint(s: string): string {
  const hex = s.trim().replace(/^sha256[:/]?/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new XepaError('ERR_CONFIG', 'a certificate fingerprint must be a SHA-256 digest: 64 hex digits, colons optional');
  }
  return (hex.match(/../g) ?? []).join(':');
}
