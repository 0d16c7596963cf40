import type { ErrorCode } from './errors.js';

// The HTTP status an error code is answered with, wherever XEPA speaks HTTP (agent, web console, vendor server).
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'ERR_BAD_REQUEST':
      return 400;
    case 'ERR_UNAUTHORIZED':
      return 401;
    case 'ERR_FORBIDDEN':
      return 403;
    case 'ERR_NOT_FOUND':
      return 404;
    case 'ERR_JOB_STATE':
    case 'ERR_QMP_COMMAND':
      return 409;
    case 'ERR_CONNECT':
    case 'ERR_TLS_PIN':
    case 'ERR_QMP_DISCONNECTED':
      return 502;
    case 'ERR_UNAVAILABLE':
      return 503;
    case 'ERR_TIMEOUT':
      return 504;
    default:
      return 500;
  }
}
