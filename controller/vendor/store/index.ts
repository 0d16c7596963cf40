// The vendor store: content-addressed blobs, per-OS release indexes with channels, verification.
export { Store } from './store.js';
export { BlobStore, hashFile, type BlobRef, type BlobWriter } from './blob-store.js';
export { writeFileAtomic } from './atomic-file.js';
export { verifyStore, type VerifyResult } from './verify.js';
export * from './release-index.js';
