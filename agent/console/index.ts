// The consoles: VNC (RFB with a view-only filter), serial with scrollback, a multiplexed QMP allow-list, a pty
// shell and screenshots, each a WebSocket route of the agent server. One folder per stream (vnc/, serial/, qmp/,
// shell/, screendump/), each holding its route and what only it uses; console-routes.ts composes them, and the
// plumbing they share sits here: job-targets.ts (which VM), limits.ts and viewer-counts.ts (how many viewers),
// unix-connect.ts (dialling QEMU's sockets) and ws-bridge.ts (socket <-> WebSocket).
export { createConsoleRoutes } from './console-routes.js';
export type { ConsoleRoutes, ConsoleRoutesOptions } from './console-routes.js';
export { jobConsoleTargets, jobParam } from './job-targets.js';
export type { ConsoleCapableJob, ConsoleJobSource, ConsoleTarget, ConsoleTargets, QmpPort } from './job-targets.js';
export { DEFAULT_CONSOLE_LIMITS, CLOSE } from './limits.js';
export type { ConsoleLimits } from './limits.js';
export { RfbClientFilter } from './vnc/rfb-client-filter.js';
export type { RfbAccess, DroppedCounts } from './vnc/rfb-client-filter.js';
export { frameClientMessage, RFB_CLIENT_MESSAGE } from './vnc/rfb-messages.js';
export { QMP_ALLOWED_COMMANDS, checkQmpCommand, SCREENDUMP_DIR } from './qmp/qmp-policy.js';
export { QmpSession } from './qmp/qmp-session.js';
export { JsonObjectSplitter } from './qmp/json-splitter.js';
export { SerialHub, readTail } from './serial/serial-hub.js';
export type { SerialAttachment, SerialHubOptions, SerialViewer } from './serial/serial-hub.js';
export { ByteRing } from './serial/byte-ring.js';
export { loadPty } from './shell/pty-loader.js';
export type { PtyAvailability, PtyModule, PtyProcess } from './shell/pty-loader.js';
export { parsePpm } from './screendump/ppm.js';
export type { RgbImage } from './screendump/ppm.js';
export { encodePng, crc32 } from './screendump/png.js';
export { takeScreenshot } from './screendump/screendump.js';
export type { Screenshot } from './screendump/screendump.js';
export { bridgeWebSocket } from './ws-bridge.js';
export type { WsBridgeOptions } from './ws-bridge.js';
export { connectUnixPooled, UNIX_READ_BYTES } from './unix-connect.js';
export type { PooledUnixSocket } from './unix-connect.js';
export { SerialHubs } from './serial/serial-route.js';
