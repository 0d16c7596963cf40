// A real QEMU guest (bench/console-guest.ts) behind a real agent server with the console routes: what the
// console integration tests stand on. The VM is started with the supervisor (agent/vm startVm), whose QMP
// connection the consoles share, exactly as a job's VM is.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ensureTlsIdentity, startAgentServer, type AgentServer } from '../../../agent/api/index.js';
import { createConsoleRoutes, type ConsoleRoutes } from '../../../agent/console/index.js';
import { XepaError, signToken, type Scope } from '../../../agent/protocol/index.js';
import { startVm, type RunningVm } from '../../../agent/vm/index.js';
import { GUEST_READY, buildConsoleGuest, consoleGuestSpec, type ConsoleGuestMode } from '../../../bench/console-guest.js';
import { ensureTestIso } from '../../../build/test-iso/index.js';
import { generateControllerKeys, loadControllerKey } from '../../../controller/auth/index.js';

export const AGENT_ID = 'agent-console-it';

/** The running rig. */
export interface RealVmRig {
  url: string;
  fingerprint: string;
  agentId: string;
  dir: string;
  vm: RunningVm;
  privateKey: KeyObject;
  keyDir: string; // the controller key directory the agent trusts (for the CLI's --key-dir)
  token(scope: Scope): string;
  // The text QEMU logged for a serial port so far.
  serialLog(port: 0 | 1): string;
  // Resolves once the serial log of `port` contains `text` (fails when the VM ends first).
  untilSerial(port: 0 | 1, text: string | RegExp): Promise<string>;
  close(): Promise<void>;
}

// Boots the guest and waits for it to be ready, then serves its consoles on 127.0.0.1 to a fresh controller key.
export async function startRealVmRig(mode: ConsoleGuestMode = 'text'): Promise<RealVmRig> {
  const log = pino({ level: process.env.XEPA_TEST_LOG ?? 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'xepa-console-it-'));
  const iso = await ensureTestIso({ kernel: mode === 'fb1080' ? 'generic' : 'cloud' });
  const initrd = await buildConsoleGuest(dir, mode);
  const vm = await startVm(consoleGuestSpec({ name: 'xepa-console-it', dir, kernel: iso.kernel, initrd, mode }), { log });
  let ended = false;
  void vm.exited.then(() => (ended = true));
  const serialLog = (port: 0 | 1): string => {
    const f = join(dir, `serial${port}.log`);
    return existsSync(f) ? readFileSync(f, 'latin1') : '';
  };
  const untilSerial = async (port: 0 | 1, text: string | RegExp): Promise<string> => {
    for (;;) {
      const s = serialLog(port);
      if (typeof text === 'string' ? s.includes(text) : text.test(s)) return s;
      if (ended) throw new XepaError('ERR_QEMU_EXIT', `the guest ended before serial ${port} showed ${String(text)}: ${s.slice(-300)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let consoles: ConsoleRoutes | undefined;
  let server: AgentServer | undefined;
  try {
    await untilSerial(0, GUEST_READY[mode]);
    const identity = await ensureTlsIdentity(join(dir, 'tls'));
    const keyDir = join(dir, 'controller');
    await generateControllerKeys(keyDir);
    const { privateKey } = await loadControllerKey(keyDir);
    const publicKey = createPublicKey(privateKey);
    consoles = createConsoleRoutes({
      targets: () => ({ job: 'job-it', dir, vnc: join(dir, 'vnc.sock'), serial: [join(dir, 'serial0.sock'), join(dir, 'serial1.sock')], serialLogs: [join(dir, 'serial0.log'), join(dir, 'serial1.log')], qmp: vm.qmp }),
      log,
      mediaDirs: [dir],
    });
    server = await startAgentServer({
      port: 0,
      host: '127.0.0.1',
      tls: { key: identity.key, cert: identity.cert },
      agentId: AGENT_ID,
      fingerprint: identity.fingerprint,
      trustedKeys: [publicKey],
      handlers: {} as never, // the console tests never use the control channel
      log,
      version: 'it',
      routes: consoles.routes,
    });
    const srv = server;
    const cons = consoles;
    return {
      url: `wss://127.0.0.1:${srv.port}`,
      fingerprint: identity.fingerprint,
      agentId: AGENT_ID,
      dir,
      vm,
      privateKey,
      keyDir,
      token: (scope) => signToken(privateKey, { aud: AGENT_ID, scope: [scope], ttlSeconds: 120 }),
      serialLog,
      untilSerial,
      close: async () => {
        await srv.close();
        await cons.close();
        await vm.stop(5000);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server?.close();
    await consoles?.close();
    await vm.stop(5000);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
