// Parses a Range header against a file size (RFC 9110 §14). One range is served as 206; several ranges (and any
// overlapping set) are answered with the whole file as 200 — allowed by the RFC, and it bounds the work per request.

// What to send.
export type RangeDecision =
  | { kind: 'full' } // no Range, a malformed one, a non-bytes unit, or several ranges: 200 with the whole file
  | { kind: 'partial'; start: number; end: number } // 206, end inclusive
  | { kind: 'unsatisfiable' }; // 416 with Content-Range: bytes */size

// Decides how to answer `header` for a file of `size` bytes.
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return { kind: 'full' };
  const specs = m[1]!.split(',').map((s) => s.trim()).filter(Boolean);
  if (specs.length !== 1) return { kind: 'full' };
  const r = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!r || (r[1] === '' && r[2] === '')) return { kind: 'full' };
  if (r[1] === '') {
    // suffix range: the last N bytes (N = 0 is unsatisfiable)
    const n = Number(r[2]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(r[1]);
  if (r[2] !== '' && Number(r[2]) < start) return { kind: 'full' }; // syntactically invalid: ignore the header
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = r[2] === '' ? size - 1 : Number(r[2]);
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
