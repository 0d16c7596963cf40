// The consoles: VNC (RFB with a view-only filter), serial with scrollback, a multiplexed QMP allow-list, a pty
// shell and screenshots, each a WebSocket route of the agent server.
export { createConsoleRoutes } from './console-routes.js';
export type { ConsoleRoutes, ConsoleRoutesOptions } from './console-routes.js';
export { jobConsoleTargets, jobParam } from './job-targets.js';
export type { ConsoleCapableJob, ConsoleJobSource, ConsoleTarget, ConsoleTargets, QmpPort } from './job-targets.js';
export { DEFAULT_CONSOLE_LIMITS, CLOSE } from './limits.js';
export type { ConsoleLimits } from './limits.js';
export { RfbClientFilter } from './rfb-client-filter.js';
export type { RfbAccess, DroppedCounts } from './rfb-client-filter.js';
export { frameClientMessage, RFB_CLIENT_MESSAGE } from './rfb-messages.js';
export { QMP_ALLOWED_COMMANDS, checkQmpCommand, SCREENDUMP_DIR } from './qmp-policy.js';
export { QmpSession } from './qmp-session.js';
export { JsonObjectSplitter } from './json-splitter.js';
export { SerialHub, readTail } from './serial-hub.js';
export type { SerialAttachment, SerialHubOptions, SerialViewer } from './serial-hub.js';
export { ByteRing } from './byte-ring.js';
export { loadPty } from './pty-loader.js';
export type { PtyAvailability, PtyModule, PtyProcess } from './pty-loader.js';
export { parsePpm } from './ppm.js';
export type { RgbImage } from './ppm.js';
export { encodePng, crc32 } from './png.js';
export { takeScreenshot } from './screendump.js';
export type { Screenshot } from './screendump.js';
export { bridgeWebSocket } from './ws-bridge.js';
export type { WsBridgeOptions } from './ws-bridge.js';
export { connectUnixPooled, UNIX_READ_BYTES } from './unix-connect.js';
export type { PooledUnixSocket } from './unix-connect.js';
export { SerialHubs } from './serial-route.js';
