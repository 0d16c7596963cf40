// Fixture: TCP servers that answer each connection with their marker and close. Args: NAME=HOST:PORT ...
// Prints "listening NAME PORT" once per server, then "accepted NAME" for each connection (the test counts them).
import { createServer } from 'node:net';

for (const spec of process.argv.slice(2)) {
  const [name, hostPort] = spec.split('=');
  const i = hostPort.lastIndexOf(':');
  const server = createServer((sock) => {
    process.stdout.write(`accepted ${name}\n`);
    sock.on('error', () => undefined);
    sock.end(`${name.toUpperCase()}-MARKER\n`);
  });
  server.listen(Number(hostPort.slice(i + 1)), hostPort.slice(0, i), () => process.stdout.write(`listening ${name} ${server.address().port}\n`));
}
