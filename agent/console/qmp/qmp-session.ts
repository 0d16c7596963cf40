import type { Logger } from 'pino';
import { isXepaError } from '../../protocol/index.js';
import type { QmpEvent } from '../../qmp/index.js';
import type { QmpPort } from '../job-targets.js';
import { JsonObjectSplitter } from './json-splitter.js';
import { QMP_ALLOWED_COMMANDS, checkQmpCommand, type QmpPolicyContext } from './qmp-policy.js';

/** What one client's QMP session needs. */
export interface QmpSessionOptions {
  qmp: QmpPort; // the supervisor's single QMP connection, shared by every session
  policy: QmpPolicyContext;
  send: (msg: Record<string, unknown>) => void; // one QMP message to this client
  log: Logger;
  maxInFlight: number;
  maxMessageBytes: number;
}

type Reply = Record<string, unknown>;
const errorReply = (cls: string, desc: string, id: unknown): Reply => withId({ error: { class: cls, desc } }, id);
const withId = (msg: Reply, id: unknown): Reply => (id === undefined ? msg : { ...msg, id });

// One client's QMP session, emulated the way QEMU presents one (greeting, capabilities negotiation, then
// commands and events) but multiplexed over the agent's single QMP connection: each command goes out with the
// supervisor's own id and its reply comes back carrying the client's id, so no client sees or steals another's
// replies. Commands outside the allow-list get a QMP GenericError; events are fanned out to every session.
export class QmpSession {
  private phase: 'negotiating' | 'running' | 'closed' = 'negotiating';
  private inFlight = 0;
  private readonly splitter: JsonObjectSplitter;
  private readonly onEvent = (e: QmpEvent): void => {
    if (this.phase === 'running') this.o.send({ event: e.event, data: e.data, timestamp: e.timestamp });
  };

  constructor(private readonly o: QmpSessionOptions) {
    this.splitter = new JsonObjectSplitter(o.maxMessageBytes);
  }

  // Sends the greeting (QEMU's version, no capabilities: out-of-band execution is not offered).
  start(): void {
    this.o.send({ QMP: { version: this.o.qmp.greeting.version, capabilities: [] } });
    this.o.qmp.on('event', this.onEvent);
  }

  // Takes bytes from the client (objects may be split across or packed into chunks). Throws ERR_BAD_REQUEST
  // for an oversize message: the caller closes the connection.
  receive(chunk: Buffer): void {
    for (const item of this.splitter.feed(chunk)) {
      if ('garbage' in item) {
        this.o.send(errorReply('GenericError', `JSON parse error, invalid input ${JSON.stringify(item.garbage.slice(0, 40))}`, undefined));
        continue;
      }
      let msg: unknown;
      try {
        msg = JSON.parse(item.text);
      } catch {
        this.o.send(errorReply('GenericError', 'JSON parse error', undefined));
        continue;
      }
      this.command(msg);
    }
  }

  // Ends the session: no more events; replies still in flight are dropped.
  close(): void {
    this.phase = 'closed';
    this.o.qmp.off('event', this.onEvent);
  }

  private command(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return this.o.send(errorReply('GenericError', 'QMP input must be a JSON object', undefined));
    }
    const m = msg as Record<string, unknown>;
    const id = m.id;
    if ('exec-oob' in m) return this.o.send(errorReply('GenericError', 'out-of-band execution is not enabled on this connection', id));
    const cmd = m.execute;
    if (typeof cmd !== 'string') return this.o.send(errorReply('GenericError', "QMP input lacks member 'execute'", id));
    const args = m.arguments;
    if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
      return this.o.send(errorReply('GenericError', "QMP input member 'arguments' must be an object", id));
    }
    if (this.phase === 'negotiating') {
      if (cmd !== 'qmp_capabilities') return this.o.send(errorReply('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'", id));
      const enable = (args as { enable?: unknown } | undefined)?.enable;
      if (Array.isArray(enable) && enable.length > 0) return this.o.send(errorReply('GenericError', `capability ${String(enable[0])} is not offered`, id));
      this.phase = 'running';
      return this.o.send(withId({ return: {} }, id));
    }
    if (cmd === 'qmp_capabilities') return this.o.send(errorReply('CommandNotFound', 'Capabilities negotiation is already complete, command ignored', id));
    if (cmd === 'query-commands') {
      return this.o.send(withId({ return: ['qmp_capabilities', 'query-commands', ...QMP_ALLOWED_COMMANDS].map((name) => ({ name })) }, id));
    }
    let sendArgs: Record<string, unknown> | undefined;
    try {
      sendArgs = checkQmpCommand(cmd, args as Record<string, unknown> | undefined, this.o.policy);
    } catch (err) {
      this.o.log.info({ command: cmd, reason: isXepaError(err) ? err.message : String(err) }, 'qmp command refused');
      return this.o.send(errorReply('GenericError', `XEPA ${isXepaError(err) ? `${err.code}: ${err.message}` : 'refused'}`, id));
    }
    if (this.inFlight >= this.o.maxInFlight) {
      return this.o.send(errorReply('GenericError', `XEPA ERR_UNAVAILABLE: ${this.o.maxInFlight} commands already waiting for QEMU on this connection`, id));
    }
    this.inFlight++;
    this.o.log.info({ command: cmd }, 'qmp command');
    this.o.qmp.execute(cmd, sendArgs).then(
      (value) => this.reply(withId({ return: value ?? {} }, id)),
      (err: unknown) => {
        const d = isXepaError(err, 'ERR_QMP_COMMAND') ? (err.details as { class?: string; desc?: string } | undefined) : undefined;
        if (d?.class && d.desc !== undefined) this.reply(errorReply(d.class, d.desc, id));
        else this.reply(errorReply('GenericError', isXepaError(err) ? `XEPA ${err.code}: ${err.message}` : String(err), id));
      },
    );
  }

  private reply(msg: Reply): void {
    this.inFlight--;
    if (this.phase !== 'closed') this.o.send(msg);
  }
}
