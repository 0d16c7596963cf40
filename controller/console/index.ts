// Controller side of the consoles: dial an agent console stream (pinned TLS, fresh scoped token), forward it to
// a local port for native clients, attach a terminal, run a QMP command, fetch a screenshot.
export { openAgentStream } from './open-agent-stream.js';
export type { AgentStreamOptions } from './open-agent-stream.js';
export { createStreamContext, STREAM_TOKEN_TTL_SECONDS } from './stream-context.js';
export type { StreamContext } from './stream-context.js';
export { bridgeLocalSocket, DEFAULT_BRIDGE_LIMITS } from './socket-bridge.js';
export type { BridgeLimits } from './socket-bridge.js';
export { startPortForward } from './port-forward.js';
export type { ForwardListen, PortForward, PortForwardOptions } from './port-forward.js';
export { attachTerminal, DETACH_BYTE } from './terminal-attach.js';
export type { AttachEnd, TerminalIo } from './terminal-attach.js';
export { readScreenshot } from './screenshot.js';
export type { FetchedScreenshot } from './screenshot.js';
export { runQmpCommand } from './qmp-command.js';
export { pipeQmp, QMP_PIPE_WINDOW, type QmpPipeResult } from './qmp-pipe.js';
export { webConsoleBase, nativeConsoleHint } from './web-console-link.js';
export { openWhenRunning, type WaitForVmOptions } from './wait-for-vm.js';
export { openQmpSession, type QmpStreamSession } from './qmp-session.js';
export { typeText, gapAfter, unescapeTypeText, DEFAULT_TYPE_PACE_MS, DEFAULT_TYPE_HOLD_MS, type TypeOptions, type TypeResult } from './qmp-type.js';
