// Human-readable numbers and URLs for ISO fetch messages and logs.

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// Formats a byte count in KiB/MiB/GiB ("512 KiB", "700.0 MiB", "4.20 GiB") for error messages.
export function formatBytes(n: number): string {
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  if (a >= GiB) return `${sign}${(a / GiB).toFixed(2)} GiB`;
  if (a >= MiB) return `${sign}${(a / MiB).toFixed(1)} MiB`;
  if (a >= KiB) return `${sign}${Math.round(a / KiB)} KiB`;
  return `${sign}${a} B`;
}

// Query parameters whose values are credentials in pre-signed URLs (S3, GCS, CDN tokens).
const SECRET_PARAM = /sig|token|key|auth|credential|secret|password/i;

// A URL safe to log or put in a message: user-info dropped, credential-looking query values masked.
export function displayUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '<invalid url>';
  }
  u.username = '';
  u.password = '';
  for (const key of [...u.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) u.searchParams.set(key, 'REDACTED');
  }
  return u.toString();
}
