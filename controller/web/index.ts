// The web console (`xepa serve`): a noVNC page, serial log, job progress and power/media buttons; the browser
// talks only to the controller, which proxies to the agent with freshly minted, narrowly scoped tokens.
export { createWebConsole } from './web-console.js';
export type { WebConsole, WebConsoleOptions } from './web-console.js';
export { connectAgentLink } from './agent-link.js';
export type { AgentPort, AgentLinkOptions, AgentStreamTarget } from './agent-link.js';
export { embeddedWebAssets, webAssetsFrom, REQUIRED_ASSETS } from './assets.js';
export type { WebAsset, WebAssets } from './assets.js';
export { mintLoginToken, verifyLoginToken, WEB_ROLES, LOGIN_TOKEN_TTL_SECONDS, LOGIN_TOKEN_MAX_LIFETIME_SECONDS } from './login-token.js';
export type { WebRole, LoginClaims } from './login-token.js';
export { LoginExchange } from './login-exchange.js';
export { SessionStore, SESSION_TTL_MS } from './sessions.js';
export type { WebSession } from './sessions.js';
export { ConsoleOrigin, originOf } from './origin.js';
export { sessionCookie, sessionCookieName, readCookie } from './cookies.js';
export { bridgeSockets, sendableCloseCode } from './ws-bridge.js';
export { qmpCommandOf, runConsoleQmp, CDROM_DEVICE_ID } from './qmp-actions.js';
export { agentStreamTarget } from './stream-paths.js';
export type { ConsoleAction } from './qmp-actions.js';
export { streamTargetOf } from './ws-routes.js';
export { JobHub, DEFAULT_JOB_HUB_LIMITS, MAX_EVENTS_PER_JOB } from './job-hub.js';
export type { JobHubLimits } from './job-hub.js';
export { startWebConsoleMount, mintLoginLink } from './mount.js';
export type { WebConsoleMount } from './mount.js';
