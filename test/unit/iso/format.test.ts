import { describe, expect, it } from 'vitest';
import { displayUrl, formatBytes } from '../../../agent/iso/index.js';

describe('formatBytes', () => {
  it('uses binary units suited to ISO sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(256 * 1024)).toBe('256 KiB');
    expect(formatBytes(700 * 1024 * 1024)).toBe('700.0 MiB');
    expect(formatBytes(4.2 * 1024 ** 3)).toBe('4.20 GiB');
  });
});

describe('displayUrl', () => {
  it('drops user-info and masks credential-looking query values so URLs can be logged', () => {
    expect(displayUrl('https://user:pw@cdn.test/os.iso?X-Amz-Signature=abc&v=2')).toBe('https://cdn.test/os.iso?X-Amz-Signature=REDACTED&v=2');
    expect(displayUrl('not a url')).toBe('<invalid url>');
  });
});
