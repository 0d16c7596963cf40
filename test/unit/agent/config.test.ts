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

  it('reads --trust from a key file named by a relative path, and names a value that is neither key nor file', () => {
    const files: Record<string, string> = { 'keys/controller.pub.pem': `-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA${KEY.slice(0, 43)}\n-----END PUBLIC KEY-----\n` };
    const read = (p: string): string => {
      const f = files[p];
      if (f === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return f;
    };
    expect(loadAgentConfig(['--trust', 'keys/controller.pub.pem'], read).trustedKeys).toEqual([files['keys/controller.pub.pem']]);
    expect(loadAgentConfig(['--trust', KEY], read).trustedKeys).toEqual([KEY]);
    expect(() => loadAgentConfig(['--trust', 'keys/missing.pem'], read)).toThrowError(
      expect.objectContaining({ code: 'ERR_CONFIG', message: expect.stringContaining('keys/missing.pem: not a key (PEM or 32 bytes of base64) and not a readable key file (no such file)') }),
    );
  });
});
