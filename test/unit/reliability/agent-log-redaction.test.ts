import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { XepaError } from '../../../agent/protocol/index.js';
import { createAgentLog } from '../../../agent/agent-log.js';

const SIGNED = 'https://deploy:hunter2pw@cdn.test:8443/os.iso?X-Amz-Signature=SIGSECRET&token=TOKSECRET';
const SECRETS = ['deploy', 'hunter2pw', 'SIGSECRET', 'TOKSECRET'];

// A logger writing into memory, as main.ts builds it.
function capture(): { lines: string[]; log: ReturnType<typeof createAgentLog> } {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, log: createAgentLog('debug', dest) };
}

describe("the agent's log", () => {
  it('redacts a URL in the message, in fields, in child bindings and in errors with causes', () => {
    const { lines, log } = capture();
    log.info(`fetching ${SIGNED}`);
    log.info({ url: SIGNED, nested: { list: [SIGNED] }, u: new URL(SIGNED) }, 'fields');
    const cause = Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL', input: SIGNED });
    log.warn({ err: new XepaError('ERR_CONNECT', `cannot download ${SIGNED}`, { cause, details: { url: SIGNED } }) }, 'failed');
    log.child({ mod: 'iso' }).error(new Error(`GET ${SIGNED} failed`));
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(SECRETS.filter((s) => l.includes(s)), l).toEqual([]);
    const rec = JSON.parse(lines[1]!) as { url: string };
    expect(rec.url).toBe('https://***@cdn.test:8443/os.iso?X-Amz-Signature=***&token=***');
    const err = (JSON.parse(lines[2]!) as { err: { type: string; code: string; message: string } }).err;
    expect(err.code).toBe('ERR_CONNECT');
    expect(err.type).toBe('XepaError');
    expect(err.message).toContain('https://***@cdn.test:8443/os.iso');
  });

  it('still redacts tokens and authorization headers by path', () => {
    const { lines, log } = capture();
    log.info({ req: { headers: { authorization: 'Bearer abc.def.ghi' } }, hello: { token: 'abc.def.ghi' } }, 'request');
    expect(lines[0]).not.toContain('abc.def.ghi');
  });
});
