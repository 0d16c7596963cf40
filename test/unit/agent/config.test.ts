import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../agent/config.js';

const KEY = 'duTkMg3V/OIS8L3EYbF3MIO4TkloxrId0dcrGCChn7U=';

describe('agent configuration', () => {
  it('applies defaults: port 7443 on all addresses, state in /run/xepa, accelerator probed', () => {
    const c = loadAgentConfig(['--trust', KEY]);
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 7443 });
    expect(c.stateDir).toBe('/run/xepa');
    expect(c.accel).toBe('auto');
    expect(c.trustedKeys).toEqual([KEY]);
  });

  it('lets flags override the file', () => {
    const file = JSON.stringify({ listen: { port: 9000 }, trustedKeys: [KEY], agentId: 'srv-1' });
    const c = loadAgentConfig(['--config', '/etc/xepa/agent.json', '--port', '9443', '--accel', 'tcg'], () => file);
    expect(c.listen.port).toBe(9443);
    expect(c.agentId).toBe('srv-1');
    expect(c.accel).toBe('tcg');
  });

  it('refuses to start without a trusted controller key, naming the field', () => {
    expect(() => loadAgentConfig([])).toThrowError(expect.objectContaining({ code: 'ERR_CONFIG', message: expect.stringContaining('trustedKeys') }));
  });

  it('refuses unknown fields and bad values instead of ignoring them', () => {
    expect(() => loadAgentConfig(['--config', 'x'], () => JSON.stringify({ trustedKeys: [KEY], lisen: {} }))).toThrowError(expect.objectContaining({ code: 'ERR_CONFIG' }));
    expect(() => loadAgentConfig(['--trust', KEY, '--accel', 'fast'])).toThrowError(expect.objectContaining({ code: 'ERR_CONFIG', message: expect.stringContaining('accel') }));
  });

  it('reports a missing config file clearly', () => {
    const enoent = Object.assign(new Error('nope'), { code: 'ENOENT' });
    expect(() => loadAgentConfig(['--config', '/nope.json'], () => { throw enoent; })).toThrowError(/cannot read config \/nope.json: not found/);
  });
});
