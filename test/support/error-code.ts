import { type XepaError, isXepaError } from '../../agent/protocol/index.js';

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

// The XepaError a promise rejects with; throws when it resolves or rejects with anything else.
export async function xepaFailure(p: Promise<unknown>): Promise<XepaError> {
  const err = await p.then(
    () => {
      throw new Error('expected a failure, the promise resolved');
    },
    (e: unknown) => e,
  );
  if (!isXepaError(err)) throw new Error(`expected a XepaError, got ${String(err)}`);
  return err;
}
