import { isXepaError } from '../../agent/protocol/index.js';

// The XepaError code `fn` throws, undefined when it returns, 'not a XepaError: ...' for any other throw.
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isXepaError(err) ? err.code : `not a XepaError: ${String(err)}`;
  }
  return undefined;
}

// The XepaError code a promise rejects with, undefined when it resolves.
export async function codeOfAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return isXepaError(err) ? err.code : `not a XepaError: ${String(err)}`;
  }
  return undefined;
}
