import { connect, type Socket } from 'node:net';

// A minimal RFB 3.8 client: handshake with security "None", then one full framebuffer update request.
// Resolves with the screen size once the first FramebufferUpdate message header arrives.
export function firstFrame(socketPath: string, timeoutMs = 60_000): Promise<{ width: number; height: number; name: string }> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(socketPath);
    let buf = Buffer.alloc(0);
    let phase: 'version' | 'security' | 'result' | 'init' | 'frame' = 'version';
    let size = { width: 0, height: 0, name: '' };
    const timer = setTimeout(() => fail(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    };
    sock.on('error', fail);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (phase === 'version' && buf.length >= 12) {
          buf = buf.subarray(12);
          sock.write('RFB 003.008\n');
          phase = 'security';
        } else if (phase === 'security' && buf.length >= 1 && buf.length >= 1 + buf[0]!) {
          const types = [...buf.subarray(1, 1 + buf[0]!)];
          buf = buf.subarray(1 + buf[0]!);
          if (!types.includes(1)) return fail(new Error(`server offers no "None" security: ${types.join(',')}`));
          sock.write(Buffer.from([1]));
          phase = 'result';
        } else if (phase === 'result' && buf.length >= 4) {
          if (buf.readUInt32BE(0) !== 0) return fail(new Error('security handshake failed'));
          buf = buf.subarray(4);
          sock.write(Buffer.from([1])); // ClientInit, shared
          phase = 'init';
        } else if (phase === 'init' && buf.length >= 24 && buf.length >= 24 + buf.readUInt32BE(20)) {
          const nameLen = buf.readUInt32BE(20);
          size = { width: buf.readUInt16BE(0), height: buf.readUInt16BE(2), name: buf.subarray(24, 24 + nameLen).toString() };
          buf = buf.subarray(24 + nameLen);
          const enc = Buffer.from([2, 0, 0, 1, 0, 0, 0, 0]); // SetEncodings: raw
          const req = Buffer.alloc(10);
          req.writeUInt8(3, 0); // FramebufferUpdateRequest, non-incremental, whole screen
          req.writeUInt16BE(size.width, 6);
          req.writeUInt16BE(size.height, 8);
          sock.write(Buffer.concat([enc, req]));
          phase = 'frame';
        } else if (phase === 'frame' && buf.length >= 1) {
          if (buf[0] === 0) {
            clearTimeout(timer);
            sock.destroy();
            return resolve(size);
          }
          buf = buf.subarray(buf.length); // other server messages (bell, colour map): ignore
        } else {
          return;
        }
      }
    });
  });
}
