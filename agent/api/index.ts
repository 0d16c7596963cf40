// The agent's HTTPS/WSS API: TLS identity, token authentication before upgrade, control-channel dispatch.
export { ensureTlsIdentity, certificateFingerprint, TLS_KEY_FILE, TLS_CERT_FILE } from './tls-identity.js';
export type { TlsIdentity, TlsIdentityOptions } from './tls-identity.js';
export { buildSelfSignedCertificate, derToPem } from './x509.js';
export type { SelfSignedSpec } from './x509.js';
export { startAgentServer } from './server.js';
export type { AgentServer, AgentServerOptions } from './server.js';
export { createDispatcher, IDEMPOTENT_METHODS } from './control.js';
export type { CallContext, ConnectionPeer, Handlers, Dispatch, ControlConnection } from './control.js';
export { serveControlConnection, MAX_BUFFERED_BYTES } from './control-connection.js';
export { IdempotencyCache } from './idempotency.js';
export type { IdempotencyOptions } from './idempotency.js';
export { authenticateRequest, extractToken, refuseTokenInUrl, BEARER_SUBPROTOCOL_PREFIX } from './auth.js';
export type { Authenticated, TokenSource } from './auth.js';
export { matchRoute, selectSubprotocol } from './routes.js';
export type { WsRoute, RouteConnection } from './routes.js';
export { PING_INTERVAL_MS } from './heartbeat.js';
