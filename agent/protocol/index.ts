// The wire protocol between controller and agent: the single source of truth for every message.
export * from './errors.js';
export * from './inventory.js';
export * from './jobs.js';
export * from './passthrough.js';
export * from './fidelity.js';
export * from './landing.js';
export * from './methods.js';
export * from './envelope.js';
export * from './token.js';
export * from './fingerprint.js';
export * from './json-shape.js';
export * from './http-status.js';
export * from './redact-url.js';
export * from './health.js';
export * from './keymap.js';
export * from './version.js';
export { formatSeconds } from './duration.js';
export * from './enrolment.js';
