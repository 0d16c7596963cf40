import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../agent/config.js';

const KEY = 'duTkMg3V/OIS8L3EYbF3MIO4TkloxrId0dcrGCChn7U=';

describe('allowLocalIsoUrls', () => {
  it('is off unless the operator turns it on, by flag or by the config file', () => {
    expect(loadAgentConfig(['--trust', KEY]).allowLocalIsoUrls).toBe(false);
    expect(loadAgentConfig(['--trust', KEY, '--allow-local-iso-urls']).allowLocalIsoUrls).toBe(true);
    expect(loadAgentConfig(['--config', 'a.json'], () => JSON.stringify({ trustedKeys: [KEY], allowLocalIsoUrls: true })).allowLocalIsoUrls).toBe(true);
  });

  it('refuses a value that is not a boolean', () => {
    expect(() => loadAgentConfig(['--config', 'a.json'], () => JSON.stringify({ trustedKeys: [KEY], allowLocalIsoUrls: 'yes' }))).toThrowError(
      expect.objectContaining({ code: 'ERR_CONFIG', message: expect.stringContaining('allowLocalIsoUrls') }),
    );
  });
});
