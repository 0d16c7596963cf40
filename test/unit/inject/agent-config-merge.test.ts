import { describe, expect, it } from 'vitest';
import { isXepaError } from '../../../agent/protocol/index.js';
import { mergeAgentConfig } from '../../../controller/inject/index.js';

const OUR = Buffer.alloc(32, 1).toString('base64');
const OTHER = Buffer.alloc(32, 2).toString('base64');
// The PEM (SPKI) form of OUR key: 12-byte Ed25519 SPKI prefix + the raw key.
const OUR_PEM = `-----BEGIN PUBLIC KEY-----\n${Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.alloc(32, 1)]).toString('base64')}\n-----END PUBLIC KEY-----\n`;

describe('merging the agent config', () => {
  it('creates a config with a new id trusting this controller on a fresh system', () => {
    const m = mergeAgentConfig(undefined, { controllerKey: OUR }, () => 'xepa-00000001');
    expect(m.config).toMatchObject({ agentId: 'xepa-00000001', trustedKeys: [OUR] });
    expect(JSON.parse(m.text)).toMatchObject({ agentId: 'xepa-00000001', listen: { host: '0.0.0.0', port: 7443 } });
  });

  it('gives the same text when run again on its own output (a second injection writes nothing)', () => {
    const first = mergeAgentConfig(undefined, { controllerKey: OUR, port: 7555 }, () => 'xepa-1');
    const again = mergeAgentConfig(first.text, { controllerKey: OUR }, () => 'never-used');
    expect(again.text).toBe(first.text);
    expect(again.notes).toEqual([]);
  });

  it('keeps the existing id, other controllers\' keys and hand-written fields', () => {
    const existing = JSON.stringify({ agentId: 'rack4', trustedKeys: [OTHER], logLevel: 'debug', isoDir: '/mnt/isos', listen: { port: 9000 } });
    const m = mergeAgentConfig(existing, { controllerKey: OUR }, () => 'never-used');
    expect(m.config.agentId).toBe('rack4');
    expect(m.config.trustedKeys).toEqual([OTHER, OUR]);
    expect(m.config.isoDir).toBe('/mnt/isos');
    expect(m.config.logLevel).toBe('debug');
    expect(m.config.listen).toEqual({ port: 9000 });
  });

  it('recognises our key already trusted in PEM form', () => {
    const m = mergeAgentConfig(JSON.stringify({ agentId: 'a', trustedKeys: [OUR_PEM] }), { controllerKey: OUR });
    expect(m.config.trustedKeys).toEqual([OUR_PEM]);
  });

  it('refuses a damaged config with ERR_CONFIG rather than overwriting it', () => {
    try {
      mergeAgentConfig('{ not json', { controllerKey: OUR });
      expect.unreachable();
    } catch (err) {
      expect(isXepaError(err) && err.code).toBe('ERR_CONFIG');
    }
  });
});
