import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '../../../build/host-deps.js';
import { buildAnswerMedium, createToolRunner } from '../../../agent/fidelity/index.js';
import { AnswerMedium } from '../../../agent/protocol/index.js';

// Answer media carry secrets (root passwords, SSH keys in user-data): the images the agent builds with
// xorriso and mtools are mode 0600 whatever the umask, like every other secret file of the state directory.
const work = mkdtempSync(join(tmpdir(), 'xepa-answer-secrets-'));
let umask = 0;
beforeAll(async () => {
  await ensureDebianPackages(['mtools', 'xorriso']);
});
beforeEach(() => void (umask = process.umask(0))); // the loosest umask: modes must come from the code
afterEach(() => void process.umask(umask));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const mode = (p: string): number => statSync(p).mode & 0o777;
const files = [{ path: 'user-data', content: '#cloud-config\nchpasswd: { list: "root:secret" }\n' }];

describe('answer media are private', () => {
  it('builds the ISO 9660 image mode 0600', async () => {
    const m = await buildAnswerMedium(AnswerMedium.parse({ kind: 'cloud-init', files }), work, createToolRunner(), 'xepa-j1');
    expect(mode(m.path)).toBe(0o600);
  });

  it('builds the FAT image mode 0600', async () => {
    const m = await buildAnswerMedium(AnswerMedium.parse({ kind: 'kickstart', format: 'vfat', files: [{ path: 'ks.cfg', content: 'rootpw secret\n' }] }), work, createToolRunner(), 'xepa-j1');
    expect(mode(m.path)).toBe(0o600);
  });
});
