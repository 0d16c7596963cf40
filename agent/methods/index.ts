// The agent's implementation of the control method table: each method composed from the capabilities.
export { createHandlers, type HandlerDeps } from './handlers.js';
export { createFinishHandlers, type FinishHandlerDeps } from './finish-methods.js';
export { createFinishDeps } from './finish-deps.js';
