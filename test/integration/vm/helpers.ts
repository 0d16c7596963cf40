import net from 'node:net';

// Connects to a VNC unix socket and returns the first 12 bytes QEMU sends (the RFB ProtocolVersion).
export function readRfbBanner(path: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(path);
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no RFB banner on ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 12) {
        clearTimeout(timer);
        sock.destroy();
        resolve(got.subarray(0, 12).toString('latin1'));
      }
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

// Connects to a unix socket and resolves once the connection is accepted.
export function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.createConnection(path);
    sock.on('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
  });
}
