import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeCpuModel } from '../../../agent/fidelity/index.js';

const FAKE = fileURLToPath(new URL('./fixtures/fake-qemu-cpu.mjs', import.meta.url));
// Runs the fake QEMU instead of the real one; the models listed fail like this host's `-cpu host`.
const fakeQemu = (failing: string[]): typeof spawn =>
  ((_cmd: string, args: string[], opts: object) => spawn(process.execPath, [FAKE, ...args], { ...opts, env: { ...process.env, FAKE_FAIL_MODELS: failing.join(',') } })) as unknown as typeof spawn;

describe('the guest CPU model', () => {
  it('takes the host model under KVM when QEMU runs it', async () => {
    expect(await probeCpuModel('kvm', 'auto', { spawn: fakeQemu([]) })).toEqual({ model: 'host', reason: 'the host CPU model runs under KVM' });
  });

  it('falls back to max when the host model dies on its MSRs, naming the cause', async () => {
    const c = await probeCpuModel('kvm', 'auto', { spawn: fakeQemu(['host']) });
    expect(c.model).toBe('max');
    expect(c.reason).toMatch(/host: failed to set MSR 0x10a/);
  });

  it('falls back to QEMU\'s generic model when neither host nor max runs', async () => {
    const c = await probeCpuModel('kvm', 'auto', { spawn: fakeQemu(['host', 'max']) });
    expect(c.model).toBe('qemu64');
    expect(c.reason).toMatch(/neither host nor max/);
  });

  it('uses max under TCG without probing, and a requested model as given', async () => {
    const never = (() => {
      throw new Error('must not spawn');
    }) as unknown as typeof spawn;
    expect((await probeCpuModel('tcg', 'auto', { spawn: never })).model).toBe('max');
    expect(await probeCpuModel('kvm', 'EPYC-Milan', { spawn: never })).toEqual({ model: 'EPYC-Milan', reason: 'requested' });
  });

  it('reports a QEMU that cannot be started instead of throwing', async () => {
    const c = await probeCpuModel('kvm', 'auto', { qemuBinary: '/nonexistent/qemu-system-x86_64' });
    expect(c.model).toBe('qemu64');
    expect(c.reason).toMatch(/cannot start QEMU/);
  });
});
