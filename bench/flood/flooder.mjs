// A flooder for the admission-under-flood test and benchmark, run inside a network namespace:
//   ip netns exec NS node flooder.mjs '{"kind":"idle-tls","host":"10.250.7.1","port":7443,"hold":150,"durationMs":30000,"maxConnects":3000,"ratePerSec":200}'
// kinds: idle-tls (handshake, then silence), slow-headers (handshake, an unfinished upgrade request, one header
// byte a second), raw-tcp (connect, never a TLS byte). It keeps `hold` connections open and opens a new one
// whenever the agent closes one, at most `ratePerSec` connects a second, bounded by `maxConnects` and `durationMs`. Prints {"ready":true} once the
// first `hold` connections are open (or 3 s passed), and a summary line when it ends (SIGTERM or the deadline).
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

const o = JSON.parse(process.argv[2]);
const deadline = Date.now() + o.durationMs;
const open = new Set();
let connects = 0;
let established = 0;
let closedByAgent = 0;
let ready = false;
let stopping = false;
let nextAt = 0;

const say = (x) => process.stdout.write(`${JSON.stringify(x)}\n`);
const markReady = () => {
  if (ready) return;
  ready = true;
  say({ ready: true, established });
};

function openOne() {
  if (stopping || connects >= o.maxConnects || Date.now() > deadline) return;
  connects++;
  let s;
  let timer;
  const onUp = () => {
    established++;
    if (established >= o.hold) markReady();
    if (o.kind === 'slow-headers') {
      s.write('GET /v1/control HTTP/1.1\r\nHost: agent\r\nUpgrade: websocket\r\n');
      timer = setInterval(() => s.writable && s.write('X'), 1000);
    }
  };
  if (o.kind === 'raw-tcp') s = netConnect({ host: o.host, port: o.port }, onUp);
  else s = tlsConnect({ host: o.host, port: o.port, rejectUnauthorized: false }, onUp);
  open.add(s);
  s.on('error', () => undefined);
  s.once('close', () => {
    clearInterval(timer);
    open.delete(s);
    if (stopping) return;
    closedByAgent++;
    paced();
  });
}

// Opens one connection at the next free slot of the flooder's rate.
function paced() {
  const now = Date.now();
  const at = Math.max(now, nextAt);
  nextAt = at + 1000 / o.ratePerSec;
  if (at <= now) openOne();
  else setTimeout(openOne, at - now);
}

function stop(byDeadline) {
  if (stopping) return;
  stopping = true;
  for (const s of open) s.destroy();
  say({ done: true, connects, established, closedByAgent, byDeadline });
  process.exit(0);
}

process.on('SIGTERM', () => stop(false));
setTimeout(markReady, 3000);
setTimeout(() => stop(true), o.durationMs);
for (let i = 0; i < o.hold; i++) paced();
