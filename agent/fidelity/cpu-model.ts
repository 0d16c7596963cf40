import { spawn as nodeSpawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// The guest CPU model chosen for the VM and why (the plan reports both).
export interface CpuModelChoice {
  model: string;
  reason: string;
}

// What probeCpuModel may touch; every default is the real thing.
export interface CpuModelProbeDeps {
  spawn?: typeof nodeSpawn;
  qemuBinary?: string;
  /** How long one candidate gets to start and run (default 10 s). */
  timeoutMs?: number;
}

// Tried in order under KVM: the host's own model, then QEMU's "max" (every feature KVM can offer).
export const KVM_CPU_CANDIDATES: readonly string[] = ['host', 'max'];
// Under TCG `host` does not exist; `max` is the most capable model TCG emulates (x86-64-v2+ guests boot).
export const TCG_CPU_MODEL = 'max';

/**
 * Picks the guest CPU model closest to the host that QEMU can actually run here: under KVM each candidate
 * is started paused on a q35 machine, resumed, queried and stopped (some nested hosts refuse `host` when
 * QEMU writes its MSRs, a fault that only shows when the vCPU is created); the first that survives wins.
 * Falls back to QEMU's default model. A requested model is used as is. Never throws.
 */
export async function probeCpuModel(accel: 'kvm' | 'tcg', requested: string, deps: CpuModelProbeDeps = {}): Promise<CpuModelChoice> {
  if (requested !== 'auto') return { model: requested, reason: 'requested' };
  if (accel === 'tcg') return { model: TCG_CPU_MODEL, reason: 'TCG cannot run the host model: max is the closest it emulates' };
  const failures: string[] = [];
  for (const model of KVM_CPU_CANDIDATES) {
    const r = await tryModel(model, deps);
    if (r.ok) {
      const before = failures.length ? ` (${failures.join('; ')})` : '';
      return { model, reason: model === 'host' ? 'the host CPU model runs under KVM' : `${model} runs under KVM${before}` };
    }
    failures.push(`${model}: ${r.why}`);
  }
  return { model: 'qemu64', reason: `neither host nor max runs under KVM here (${failures.join('; ')}): QEMU's generic model` };
}

type TryResult = { ok: true } | { ok: false; why: string };

// Starts QEMU paused with this model, speaks QMP on stdio (capabilities, cont, query-status, quit).
function tryModel(model: string, deps: CpuModelProbeDeps): Promise<TryResult> {
  const spawn = deps.spawn ?? nodeSpawn;
  const args = ['-machine', 'q35', '-accel', 'kvm', '-cpu', model, '-m', '64', '-nodefaults', '-no-user-config',
    '-display', 'none', '-S', '-qmp', 'stdio'];
  return new Promise<TryResult>((resolve) => {
    let settled = false;
    let quitting = false;
    const stderr: string[] = [];
    const child = spawn(deps.qemuBinary ?? 'qemu-system-x86_64', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = (r: TryResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, why: `no answer within ${deps.timeoutMs ?? 10_000} ms` }), deps.timeoutMs ?? 10_000);
    const send = (cmd: string): void => void child.stdin?.write(`${JSON.stringify({ execute: cmd })}\n`);
    const steps = ['qmp_capabilities', 'cont', 'query-status'];
    child.on('error', (err) => done({ ok: false, why: `cannot start QEMU: ${err.message}` }));
    child.stdin?.on('error', () => undefined); // QEMU died first: its exit says why
    if (child.stderr) createInterface({ input: child.stderr }).on('line', (l) => void (l.trim() && stderr.push(l)));
    child.on('close', (code, signal) => {
      if (quitting && code === 0) return done({ ok: true });
      // The first line names the cause ("failed to set MSR ..."); later ones are the abort that followed.
      const first = stderr[0]?.replace(/^qemu-system-x86_64: (error: )?/, '') ?? `exit ${code ?? signal}`;
      done({ ok: false, why: first });
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: { QMP?: unknown; return?: { status?: string }; error?: { desc?: string } };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.error) return done({ ok: false, why: msg.error.desc ?? 'QMP error' });
      if (msg.QMP !== undefined || (msg.return !== undefined && steps.length > 0 && msg.return.status === undefined)) {
        const next = steps.shift();
        if (next) return send(next);
      }
      if (msg.return?.status !== undefined) {
        if (msg.return.status !== 'running') return done({ ok: false, why: `the VM is ${msg.return.status}, not running` });
        quitting = true;
        send('quit');
      }
    });
  });
}
