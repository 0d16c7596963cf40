// The rescue-boot endpoints of `xepa serve`, beside Vendor Services: per registered host its iPXE script and
// apkovl (while its enrolment token is pending), and the enrolment POST by which a booted agent reports its TLS
// fingerprint; the controller then records it in agents.json, pinned, as `xepa inject` does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ENROL_PATH, EnrolRequest, XepaError, httpStatusOf, type EnrolReply } from '../../agent/protocol/index.js';
import { recordAgent } from '../registry/index.js';
import { rescueApkovl, rescueIpxeScript } from './rescue-artifacts.js';
import { isPending, readRescueHosts, redeemToken } from './rescue-hosts.js';

const ROUTE = /^\/vendor\/v1\/rescue\/([A-Za-z0-9][A-Za-z0-9._-]{0,62})\/(boot\.ipxe|apkovl\.tar\.gz)$/;
const MAX_BODY = 4096;

export interface RescueMountOptions {
  rescueFile: string;
  registryFile: string;
  publicUrl: string; // how rescue systems reach this serve (no trailing slash)
  controllerPublicKey: string; // base64 of the raw Ed25519 key
  agentBundle: () => Promise<Buffer>; // dist/xepa-agent.mjs, read when an apkovl is built
  log?: Logger;
  now?: () => Date;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' }).end(text);
}

function fail(res: ServerResponse, err: unknown): void {
  const e = err instanceof XepaError ? err : new XepaError('ERR_INTERNAL', 'internal error');
  reply(res, httpStatusOf(e.code), { code: e.code, message: e.message });
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new XepaError('ERR_BAD_REQUEST', `an enrolment is at most ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// host:port as the registry writes it; an IPv4-mapped IPv6 peer is written as IPv4.
function addressOf(req: IncomingMessage, port: number): string {
  const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The mount: `request` says true for the paths it owns. */
export function createRescueMount(o: RescueMountOptions): { name: 'rescue'; request(req: IncomingMessage, res: ServerResponse): Promise<boolean> } {
  const now = o.now ?? (() => new Date());
  const enrol = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let parsed: EnrolRequest;
    try {
      const r = EnrolRequest.safeParse(JSON.parse(await readBody(req)));
      if (!r.success) throw new XepaError('ERR_BAD_REQUEST', `not an enrolment: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      parsed = r.data;
    } catch (err) {
      throw err instanceof XepaError ? err : new XepaError('ERR_BAD_REQUEST', 'an enrolment is a JSON object');
    }
    const host = await redeemToken(o.rescueFile, parsed.token, parsed.agentId, now());
    const address = addressOf(req, parsed.port);
    const agent = await recordAgent(o.registryFile, { id: parsed.agentId, address, fingerprint: parsed.fingerprint, version: parsed.version, lastSeen: now().toISOString() });
    o.log?.info({ host: host.host, agentId: agent.id, address, fingerprint: agent.fingerprint }, 'rescue enrolment: agent recorded');
    const body: EnrolReply = { agentId: agent.id, address: agent.address, fingerprint: agent.fingerprint };
    reply(res, 200, body);
  };
  const artifact = async (hostName: string, what: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const h = (await readRescueHosts(o.rescueFile)).find((x) => x.host === hostName);
    if (!h) throw new XepaError('ERR_NOT_FOUND', `${hostName} is not registered for a rescue boot: xepa rescue add ${hostName}`);
    if (!isPending(h, now())) throw new XepaError('ERR_FORBIDDEN', `the rescue boot of ${hostName} is ${h.enrolledAt ? 'used' : 'expired'}: xepa rescue add ${hostName} makes a new one`);
    const body = what === 'boot.ipxe' ? Buffer.from(rescueIpxeScript(h, o.publicUrl)) : rescueApkovl(h, { publicUrl: o.publicUrl, controllerPublicKey: o.controllerPublicKey, agentBundle: await o.agentBundle() });
    o.log?.info({ host: hostName, what, peer: req.socket.remoteAddress }, 'rescue artifact served');
    res.writeHead(200, { 'content-type': what === 'boot.ipxe' ? 'text/plain; charset=utf-8' : 'application/gzip', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  return {
    name: 'rescue',
    async request(req, res) {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const m = ROUTE.exec(path);
      if (path !== ENROL_PATH && !m) return false;
      try {
        if (path === ENROL_PATH) {
          if (req.method !== 'POST') throw new XepaError('ERR_BAD_REQUEST', `${ENROL_PATH} takes POST`);
          await enrol(req, res);
        } else {
          if (req.method !== 'GET' && req.method !== 'HEAD') throw new XepaError('ERR_BAD_REQUEST', `${path} takes GET or HEAD`);
          await artifact(m![1]!, m![2]!, req, res);
        }
      } catch (err) {
        o.log?.warn({ path, err: err instanceof Error ? err.message : String(err) }, 'rescue request refused');
        if (!res.headersSent) fail(res, err);
        else res.destroy();
      }
      return true;
    },
  };
}
