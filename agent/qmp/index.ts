// QMP: a framing parser that never sees a socket, and a client with id-matched commands and events.
export { QmpFramer, encodeQmpMessage, DEFAULT_MAX_LINE_BYTES } from './framing.js';
export { classifyQmpMessage } from './messages.js';
export type { QmpEvent, QmpGreeting, QmpMessage, QmpTimestamp } from './messages.js';
export { QmpClient } from './client.js';
export type { QmpClientEvents, QmpConnectOptions, QmpExecuteOptions } from './client.js';
