import { VERSION, isXepaError } from '../../agent/protocol/index.js';
import { agentsCommand } from './commands/agents.js';
import { consoleCommand } from './commands/console.js';
import { demoCommand } from './commands/demo.js';
import { qmpCommand } from './commands/qmp.js';
import { screenshotCommand } from './commands/screenshot.js';
import { serialCommand } from './commands/serial.js';
import { typeCommand } from './commands/type.js';
import { depsCommand } from './commands/deps.js';
import { injectCommand } from './commands/inject.js';
import { rescueCommand } from './commands/rescue.js';
import { finishCommand } from './commands/finish.js';
import { installCommand } from './commands/install.js';
import { inventoryCommand, planCommand } from './commands/inventory.js';
import { cancelCommand, jobsCommand } from './commands/jobs.js';
import { keygenCommand, tokenCommand } from './commands/keys.js';
import { serveCommand } from './commands/serve.js';
import { vendorCommand } from './commands/vendor.js';
import { line, processOutput, type Output } from './output.js';

const USAGE = `xepa ${VERSION}: install any ISO on a bare-metal server from its rescue system

usage: xepa VERB [options]   (xepa VERB --help for a verb's options)
  demo                       the whole job on this machine: agent, loop disk, test ISO, install, boot check
  deps [--tests]             install the Debian packages the demo (--tests: also the tests) needs here, only missing ones
  keygen                     create the controller's Ed25519 key pair
  token                      mint a scoped, short-lived token for an agent
  inventory HOST             what the agent sees: CPU, memory, firmware, KVM, disks, NICs, PCI
  plan HOST ...              dry run of an install: disks, firmware, accelerator, memory, warnings
  install HOST ...           install an ISO onto named disks and follow the job
  jobs HOST [JOB]            list jobs, show one, or --follow its events
  cancel HOST JOB            stop a job (devices are restored)
  finish HOST JOB            move to metal: VM stopped, disks checked, UEFI entry, backups; --reboot
  inject ssh://root@HOST     install or upgrade the agent on a rescue system over SSH and pin its fingerprint
  agents                     the agents this controller knows, probed now (up, unreachable, wrong certificate)
  rescue add HOST            register a server for a rescue boot (iPXE + apkovl from xepa serve, one-time enrolment)
  serve --agent HOST         the web console (noVNC, serial, job progress, power/media) with one-time login links
  vendor list|update|...     Vendor Services: OS catalog, verified store, updater, rollback (xepa vendor --help)
  console HOST               the installer's screen: web console link, or --vnc-port PORT for a native VNC viewer
  serial HOST [N]            attach this terminal to serial port N (0 or 1), earlier output first; Ctrl-] detaches
  qmp HOST [CMD [ARGS]]      run a QMP command, or --listen PATH|[HOST:]PORT for qmp-shell/socat (allow-listed commands)
  type HOST TEXT             type TEXT on the VM's keyboard (US layout, \n = Enter) over one QMP session
  screenshot HOST -o F.png   save the installer's screen as PNG
HOST is host[:port] (default port 7443), wss://host:port or a registered agent id; the agent's TLS fingerprint
is pinned (--fingerprint, XEPA_FINGERPRINT, or the one recorded by inject). Keys live in $XEPA_HOME or ~/.config/xepa.`;

const VERBS: Record<string, (argv: string[], o: Output) => Promise<number>> = {
  demo: demoCommand,
  deps: depsCommand,
  keygen: keygenCommand,
  token: tokenCommand,
  inventory: inventoryCommand,
  plan: planCommand,
  install: installCommand,
  jobs: jobsCommand,
  cancel: cancelCommand,
  finish: finishCommand,
  inject: injectCommand,
  agents: agentsCommand,
  rescue: rescueCommand,
  serve: serveCommand,
  vendor: vendorCommand,
  console: consoleCommand,
  serial: serialCommand,
  qmp: qmpCommand,
  type: typeCommand,
  screenshot: screenshotCommand,
};

// Runs one CLI invocation and returns its exit code (0 ok, 1 failed, 2 usage).
export async function runCli(argv: string[], o: Output = processOutput()): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') return line(o.out, USAGE), verb ? 0 : 2;
  if (verb === '--version') return line(o.out, VERSION), 0;
  const run = VERBS[verb];
  if (!run) return line(o.err, `xepa: unknown verb "${verb}"\n\n${USAGE}`), 2;
  try {
    return await run(rest, o);
  } catch (err) {
    if (isXepaError(err)) {
      line(o.err, `xepa ${verb}: ${err.code}: ${err.message}`);
      return err.code === 'ERR_BAD_REQUEST' ? 2 : 1;
    }
    line(o.err, `xepa ${verb}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

if (process.argv[1] && /xepa(\.mjs)?$|cli[/\\]main\.ts$/.test(process.argv[1])) {
  process.exitCode = await runCli(process.argv.slice(2));
}
