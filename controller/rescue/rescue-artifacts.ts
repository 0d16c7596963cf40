// What a registered host boots: the iPXE script (Alpine's netboot kernel with the host's apkovl) and the apkovl
// itself (the agent, its OpenRC service, a config with this controller's public key and the host's enrolment
// token). Never a private key: the agent makes its TLS identity at first boot and reports its fingerprint.
import { buildApkovl, renderIpxeScript } from '../../alpine/index.js';
import { ENROL_PATH } from '../../agent/protocol/index.js';
import type { RescueHost } from './rescue-hosts.js';

// The URL paths of one host's artifacts under the serve's public URL.
export const rescuePaths = (host: string): { ipxe: string; apkovl: string } => ({
  ipxe: `/vendor/v1/rescue/${host}/boot.ipxe`,
  apkovl: `/vendor/v1/rescue/${host}/apkovl.tar.gz`,
});

// The iPXE script of a host; publicUrl is how the server reaches this controller (no trailing slash).
export function rescueIpxeScript(h: RescueHost, publicUrl: string): string {
  return renderIpxeScript({
    kernelUrl: h.netboot.kernelUrl,
    initrdUrl: h.netboot.initrdUrl,
    ...(h.netboot.modloopUrl ? { modloopUrl: h.netboot.modloopUrl } : {}),
    ...(h.netboot.alpineRepo ? { alpineRepo: h.netboot.alpineRepo } : {}),
    ...(h.consoles ? { consoles: h.consoles } : {}),
    apkovlUrl: `${publicUrl}${rescuePaths(h.host).apkovl}`,
  });
}

// The apkovl of a host (deterministic for the same inputs).
export function rescueApkovl(h: RescueHost, o: { publicUrl: string; controllerPublicKey: string; agentBundle: Buffer }): Buffer {
  return buildApkovl({
    agentBundle: o.agentBundle,
    hostname: h.host,
    agentConfig: { agentId: h.agentId, trustedKeys: [o.controllerPublicKey], enrol: { url: `${o.publicUrl}${ENROL_PATH}`, token: h.token } },
  });
}
