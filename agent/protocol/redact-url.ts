// Redaction of URLs wherever one is shown or stored (events, logs, errors, state files, CLI and web output):
// scheme, host, port and path stay; userinfo, every query value and the fragment become `***`.

const MASK = '***';

// A URL safe to show: `https://***@host:8443/path/file.iso?X-Amz-Signature=***`; '<invalid url>' when unparsable.
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '<invalid url>';
  }
  const userinfo = u.username !== '' || u.password !== '' ? `${MASK}@` : '';
  // Split the raw query ourselves: `?secret` (no `=`) is a value too, and searchParams cannot tell it from `?secret=`.
  const query = u.search === '' ? '' : `?${u.search.slice(1).split('&').map(maskParam).join('&')}`;
  const fragment = u.hash === '' ? '' : `#${MASK}`;
  const authority = u.host === '' && !u.href.startsWith(`${u.protocol}//`) ? '' : `//${userinfo}${u.host}`;
  return `${u.protocol}${authority}${u.pathname}${query}${fragment}`;
}

function maskParam(part: string): string {
  const eq = part.indexOf('=');
  return eq < 0 ? MASK : `${part.slice(0, eq)}=${MASK}`;
}

// Anything that looks like an absolute URL in free text (a scheme, `://`, then no whitespace or quote).
const URL_IN_TEXT = /\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}:\/\/[^\s"'<>`]+/g;
// Sentence punctuation that ends a URL written inside a message ("... failed (https://x/y).").
const TRAILING = /[.,;:!?)\]}]+$/;

// Redacts every URL inside a message; the rest of the text is unchanged.
export function redactUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (found) => {
    const tail = TRAILING.exec(found)?.[0] ?? '';
    const bare = found.slice(0, found.length - tail.length);
    const redacted = redactUrl(bare);
    return `${redacted === '<invalid url>' ? `${bare.split('://')[0]}://${MASK}` : redacted}${tail}`;
  });
}

// A copy of a JSON-like value (event detail, log fields, a wire error) with every URL in every string redacted.
export function redactUrlsDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactUrlsIn(value) as T;
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => redactUrlsDeep(v, depth + 1)) as T;
  if (value instanceof URL) return redactUrl(value) as T; // JSON would print its href
  if (value instanceof Error) {
    // Same class (a XepaError stays one, its code a field), message and stack redacted and not enumerable.
    const e = Object.create(Object.getPrototypeOf(value) as object) as Error;
    const hidden = (k: string, v: unknown): void => void Object.defineProperty(e, k, { value: v, writable: true, configurable: true, enumerable: false });
    hidden('message', redactUrlsIn(value.message));
    if (value.stack) hidden('stack', redactUrlsIn(value.stack));
    for (const [k, v] of Object.entries(value)) (e as unknown as Record<string, unknown>)[k] = redactUrlsDeep(v, depth + 1);
    if (value.cause !== undefined) hidden('cause', redactUrlsDeep(value.cause, depth + 1));
    return e as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactUrlsDeep(v, depth + 1);
  return out as T;
}
