import { XepaError } from '../../agent/protocol/index.js';

// Parses `text` as a URL of one of `schemes` (e.g. ['https:', 'wss:']); ERR_CONFIG naming `what` otherwise.
export function urlOf(text: string, schemes: readonly string[], what: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new XepaError('ERR_CONFIG', `not a URL: ${text}`);
  }
  if (!schemes.includes(u.protocol)) throw new XepaError('ERR_CONFIG', `${what} must start with ${schemes.map((s) => `${s}//`).join(' or ')}, not ${u.protocol}//`);
  return u;
}
