// Debian's signed suite index: `InRelease` (an OpenPGP clearsigned Release file) checked with gpgv against the
// keyrings of debian-archive-keyring, and the digests of the files it lists. Only the text gpgv itself verified
// and wrote out is parsed, never the document as received: a line added outside the signature cannot count.
import * as childProcess from 'node:child_process';
import { XepaError } from '../../../agent/protocol/index.js';

// The keyrings of the Debian package `debian-archive-keyring` (bookworm): the archive keys that sign InRelease.
export const DEBIAN_ARCHIVE_KEYRINGS = ['/usr/share/keyrings/debian-archive-keyring.gpg'];

// A verified Release file: its fields and the SHA256 digests of the files it lists (path relative to dists/SUITE).
export interface VerifiedRelease {
  fields: Record<string, string>;
  sha256: Map<string, { hex: string; size: number }>;
  signer: string; // the fingerprint gpgv reported (VALIDSIG)
}

// Runs gpgv on a clearsigned document; resolves the signed text, or rejects ERR_SIGNATURE naming gpgv's reason.
export function gpgvVerify(signed: Buffer, keyrings: string[], spawn: typeof childProcess.spawn = childProcess.spawn): Promise<{ text: string; signer: string }> {
  return new Promise((resolve, reject) => {
    const args = ['--status-fd', '3', ...keyrings.flatMap((k) => ['--keyring', k]), '--output', '-', '-'];
    const child = spawn('gpgv', args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let status = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8');
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: string) => (status += c));
    child.on('error', (err) => reject(new XepaError('ERR_TOOL_MISSING', `cannot run gpgv (Debian package gpgv): ${err.message}`, { cause: err })));
    child.stdin!.on('error', () => undefined); // gpgv may stop reading a document it already refused
    child.stdin!.end(signed);
    child.on('close', (code) => {
      const validsig = /^\[GNUPG:\] VALIDSIG ([0-9A-F]{40})/m.exec(status);
      const good = /^\[GNUPG:\] GOODSIG /m.test(status);
      if (code === 0 && good && validsig) {
        resolve({ text: Buffer.concat(out).toString('utf8'), signer: validsig[1]! });
        return;
      }
      const why = /^\[GNUPG:\] (BADSIG|ERRSIG|NO_PUBKEY|EXPKEYSIG|REVKEYSIG|NODATA)\b.*$/m.exec(status)?.[0].replace('[GNUPG:] ', '') ?? `gpgv exited ${code}`;
      reject(new XepaError('ERR_SIGNATURE', `the signature does not verify with ${keyrings.join(', ')}: ${why}`, { details: { gpgv: stderr.trim().split('\n').slice(-3) } }));
    });
  });
}

// Parses a Release file (deb822): single-line fields, and the SHA256 section's `HEX SIZE PATH` lines.
export function parseRelease(text: string): Omit<VerifiedRelease, 'signer'> {
  const fields: Record<string, string> = {};
  const sha256 = new Map<string, { hex: string; size: number }>();
  let section = '';
  for (const line of text.split('\n')) {
    const field = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (field) {
      section = field[1]!;
      fields[section] = field[2]!;
      continue;
    }
    const entry = /^\s+([0-9a-f]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (section === 'SHA256' && entry) sha256.set(entry[3]!, { hex: entry[1]!, size: Number(entry[2]) });
  }
  return { fields, sha256 };
}

// A clearsigned document with nothing around it: gpgv accepts text before and after the signed block (and writes
// out only the signed part), apt refuses such files, and so does this.
export function checkClearsignFrame(doc: Buffer): void {
  const text = doc.toString('latin1');
  const begin = '-----BEGIN PGP SIGNED MESSAGE-----';
  const end = /-----END PGP SIGNATURE-----\r?\n?$/;
  if (!text.startsWith(begin)) throw new XepaError('ERR_SIGNATURE', 'the InRelease has text before its signed block (or is not clearsigned): refused');
  if (!end.test(text) || text.indexOf(begin, 1) !== -1) throw new XepaError('ERR_SIGNATURE', 'the InRelease has text after its signature, or a second signed block: refused');
}

// Verifies an InRelease document and parses what the signature covers.
export async function verifyInRelease(doc: Buffer, o: { keyrings?: string[]; spawn?: typeof childProcess.spawn } = {}): Promise<VerifiedRelease> {
  checkClearsignFrame(doc);
  const { text, signer } = await gpgvVerify(doc, o.keyrings ?? DEBIAN_ARCHIVE_KEYRINGS, o.spawn);
  const parsed = parseRelease(text);
  if (!parsed.fields['Suite'] || parsed.sha256.size === 0) throw new XepaError('ERR_SIGNATURE', 'the signed text is not a Release file (no Suite field or no SHA256 list)');
  return { ...parsed, signer };
}
