// The controller's signing identity: Ed25519 key pair on disk and the tokens minted with it.
export {
  generateControllerKeys,
  loadControllerKey,
  defaultControllerDir,
  rawPublicKeyBase64,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
} from './keys.js';
export type { GeneratedKeys, ControllerKey } from './keys.js';
export { mintToken, DEFAULT_TOKEN_TTL_SECONDS } from './mint.js';
export type { MintOptions } from './mint.js';
