// The legitimate client of the admission-under-flood test and benchmark, run inside its own network namespace:
//   ip netns exec NS node legit-client.mjs '{"url":"wss://10.250.7.1:7443","token":"...","attempts":100,"timeoutMs":5000}'
// Each attempt is a new TCP connection: TLS, WebSocket upgrade on /v1/control, one `hello` answered, close.
// Prints one summary line: attempts, successes, per-attempt connect (upgrade done) and hello latencies in ms,
// and the first few failures.
import WebSocket from 'ws';

const o = JSON.parse(process.argv[2]);
const hello = JSON.stringify({ id: 'h', key: 'k', method: 'hello', params: { protocol: 1 } });

function attempt() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let connectMs;
    const ws = new WebSocket(`${o.url}/v1/control`, ['xepa'], { rejectUnauthorized: false, headers: { Authorization: `Bearer ${o.token}` } });
    const finish = (r) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), o.timeoutMs);
    ws.once('open', () => {
      connectMs = performance.now() - t0;
      ws.send(hello);
    });
    ws.once('message', (m) => {
      const reply = JSON.parse(String(m));
      if (reply.result?.agentId) finish({ ok: true, connectMs, helloMs: performance.now() - t0 });
      else finish({ ok: false, error: `reply ${String(m).slice(0, 200)}` });
    });
    ws.once('unexpected-response', (_req, res) => finish({ ok: false, error: `HTTP ${res.statusCode}` }));
    ws.once('error', (err) => finish({ ok: false, error: err.code ?? err.message }));
    ws.once('close', (code) => finish({ ok: false, error: `closed ${code}` }));
  });
}

const results = [];
for (let i = 0; i < o.attempts; i++) results.push(await attempt());
const ok = results.filter((r) => r.ok);
process.stdout.write(
  `${JSON.stringify({
    attempts: results.length,
    ok: ok.length,
    connectMs: ok.map((r) => Math.round(r.connectMs * 10) / 10),
    helloMs: ok.map((r) => Math.round(r.helloMs * 10) / 10),
    failures: results.filter((r) => !r.ok).slice(0, 5).map((r) => r.error),
  })}\n`,
);
