import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../agent/iso/index.js';

describe('formatBytes', () => {
  it('uses binary units suited to ISO sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(256 * 1024)).toBe('256 KiB');
    expect(formatBytes(700 * 1024 * 1024)).toBe('700.0 MiB');
    expect(formatBytes(4.2 * 1024 ** 3)).toBe('4.20 GiB');
  });
});
// URLs in messages: redactUrl, tested in test/unit/reliability/redact-url.test.ts (it replaced displayUrl).
