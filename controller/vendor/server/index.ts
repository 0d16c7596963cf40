// The Vendor Services HTTP side: the /vendor/v1/ handler and its `xepa serve` mount.
export { createVendorHandler, baseUrlOf, type VendorHandlerOptions, type VendorHttpHandler } from './handler.js';
export { startVendorMount, type VendorMount } from './mount.js';
export { decideRange, type RangeDecision } from './range.js';
export { parseVendorRoute, splitTarget, VENDOR_PREFIX, type VendorRoute } from './routes.js';
export { renderIpxeScript } from './ipxe.js';
