import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEBIAN_PACKAGES } from '../../../alpine/index.js';
import { ALL_PACKAGES, DEMO_PACKAGES, TEST_PACKAGES } from '../../../build/host-deps.js';
import { TEST_ISO_PACKAGES } from '../../../build/test-iso/index.js';
import { depsPackages } from '../../../controller/cli/commands/deps.js';
import { runCli } from '../../../controller/cli/main.js';
import { captureOutput } from '../../support/capture.js';
import { REPO } from '../../support/paths.js';

describe('the Debian package lists', () => {
  it('give the demo what it runs: QEMU, its firmware, the test ISO builder and loop devices', () => {
    for (const pkg of ['qemu-system-x86', 'qemu-utils', 'seabios', 'ovmf', 'util-linux', 'mount', ...TEST_ISO_PACKAGES]) expect(DEMO_PACKAGES).toContain(pkg);
  });

  it('give the demo everything the agent it starts needs on a Debian host, but node and the not-yet-streamed CD', () => {
    const notHere = new Set(['nodejs', 'ca-certificates', 'qemu-block-extra']); // node runs the demo already; HTTP-streamed CD: not yet
    for (const pkg of DEBIAN_PACKAGES.filter((p) => !notHere.has(p))) expect(DEMO_PACKAGES).toContain(pkg);
  });

  it('keep what only the tests need out of the demo', () => {
    for (const pkg of ['chromium', 'debootstrap', 'websockify', 'openssh-server', 'vncsnapshot']) {
      expect(DEMO_PACKAGES).not.toContain(pkg);
      expect(TEST_PACKAGES).toContain(pkg);
    }
  });

  it('name each package once, and everything is both lists', () => {
    expect(new Set(ALL_PACKAGES).size).toBe(ALL_PACKAGES.length);
    expect(DEMO_PACKAGES.filter((p) => TEST_PACKAGES.includes(p))).toEqual([]);
    expect([...ALL_PACKAGES].sort()).toEqual([...DEMO_PACKAGES, ...TEST_PACKAGES].sort());
  });
});

describe('xepa deps', () => {
  it('ensures the demo packages by default and everything with --tests', () => {
    expect(depsPackages({ tests: false })).toEqual(DEMO_PACKAGES);
    expect(depsPackages({ tests: true })).toEqual(ALL_PACKAGES);
  });

  it('--list prints the packages it would ensure and installs nothing', async () => {
    const demo = captureOutput();
    expect(await runCli(['deps', '--list'], demo)).toBe(0);
    expect(demo.stdout().trim().split('\n')).toEqual([...DEMO_PACKAGES]);
    const all = captureOutput();
    expect(await runCli(['deps', '--tests', '--list'], all)).toBe(0);
    expect(all.stdout().trim().split('\n')).toEqual([...ALL_PACKAGES]);
    expect(all.stderr()).toBe('');
  });

  it('refuses an unknown option with a usage error', async () => {
    const o = captureOutput();
    expect(await runCli(['deps', '--everything'], o)).toBe(2);
    expect(o.stderr()).toMatch(/ERR_BAD_REQUEST/);
  });

  it('is run with --tests by npm test and npm run bench, while npm run demo installs only the demo packages', () => {
    const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toMatch(/xepa\.mjs deps --tests &&/);
    expect(scripts.bench).toMatch(/xepa\.mjs deps --tests &&/);
    expect(scripts.demo).not.toMatch(/--tests/);
    expect(scripts.demo).toMatch(/xepa\.mjs demo$/);
  });
});
