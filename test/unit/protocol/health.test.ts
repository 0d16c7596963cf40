import { describe, expect, it } from 'vitest';
import { AgentHealth, methods, parseAgentHealth, PROTOCOL_VERSION } from '../../../agent/protocol/index.js';
import { codeOf } from '../../support/error-code.js';

const FP = 'AB:'.repeat(31) + 'AB';

describe('the /v1/health shape', () => {
  it('parses what an agent answers', () => {
    const body = JSON.stringify({ agentId: 'rescue-1', version: '0.1.0', protocol: PROTOCOL_VERSION, fingerprint: FP });
    expect(parseAgentHealth(body, 'test')).toEqual({ agentId: 'rescue-1', version: '0.1.0', protocol: PROTOCOL_VERSION, fingerprint: FP });
  });

  it('refuses a body that is not JSON with ERR_PROTOCOL_VERSION, naming where it came from', () => {
    let err: unknown;
    expect(codeOf(() => parseAgentHealth('<html>proxy error</html>', 'agent at 10.0.0.1'))).toBe('ERR_PROTOCOL_VERSION');
    try {
      parseAgentHealth('<html>proxy error</html>', 'agent at 10.0.0.1');
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toContain('agent at 10.0.0.1');
  });

  it('refuses JSON of another shape (no fingerprint, a fractional protocol)', () => {
    const noFp = JSON.stringify({ agentId: 'a', version: 'v', protocol: 1 });
    const badProtocol = JSON.stringify({ agentId: 'a', version: 'v', protocol: 1.5, fingerprint: FP });
    for (const body of [noFp, badProtocol]) {
      expect(codeOf(() => parseAgentHealth(body, 'test'))).toBe('ERR_PROTOCOL_VERSION');
    }
  });

  it('is the very schema of the hello result, so the two answers cannot drift apart', () => {
    expect(methods.hello.result).toBe(AgentHealth);
  });
});
