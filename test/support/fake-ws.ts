import { EventEmitter } from 'node:events';

// A WebSocket stand-in for the console bridges (agent and controller side): its unsent-byte count and the moment
// send callbacks fire are the test's to decide, pause/resume are recorded, close records the code and reason.
export class FakeWs extends EventEmitter {
  readonly OPEN = 1;
  readonly CONNECTING = 0;
  readyState = 1;
  bufferedAmount = 0;
  isPaused: boolean;
  sent: Buffer[] = [];
  callbacks: (() => void)[] = [];
  closed: { code: number; reason: string } | undefined;

  // `paused`: how the socket is handed over (the controller's openAgentStream hands streams over paused).
  constructor(opts: { paused?: boolean } = {}) {
    super();
    this.isPaused = opts.paused ?? false;
  }

  send(data: Buffer, _o: unknown, cb: () => void): void {
    this.sent.push(data);
    this.bufferedAmount += data.length;
    this.callbacks.push(cb);
  }

  // The network took everything: callbacks run with the buffer empty.
  flush(): void {
    this.bufferedAmount = 0;
    for (const cb of this.callbacks.splice(0)) cb();
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
  }

  close(code: number, reason = ''): void {
    this.closed = { code, reason };
    this.readyState = 3;
    this.emit('close', code, Buffer.from(reason));
  }
}
