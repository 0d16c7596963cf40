// Sends an HTTP/1.1 request exactly as written (clients normalise `..` and refuse odd bytes; attackers do not).
import { connect } from 'node:net';

// A parsed response.
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

// Writes `GET <target>` with `headers` to 127.0.0.1:port and reads the whole response (Connection: close).
export function rawRequest(port: number, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const hs: Record<string, string> = {};
      for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        hs[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      let body = all.subarray(split + 4);
      if (hs['transfer-encoding'] === 'chunked') {
        const parts: Buffer[] = [];
        let at = 0;
        for (;;) {
          const eol = body.indexOf('\r\n', at);
          const n = parseInt(body.subarray(at, eol).toString(), 16);
          if (!n) break;
          parts.push(body.subarray(eol + 2, eol + 2 + n));
          at = eol + 2 + n + 2;
        }
        body = Buffer.concat(parts);
      }
      resolve({ status, headers: hs, body });
    });
    const extra = Object.entries({ Host: `127.0.0.1:${port}`, Connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.write(Buffer.concat([Buffer.from(`${method} `), Buffer.from(target, 'latin1'), Buffer.from(` HTTP/1.1\r\n${extra}\r\n`)]));
  });
}
