// Vendor Services as a mount of `xepa serve` (the shape of ServeMount in controller/cli/commands/serve.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { openVendor, type OpenVendorOptions } from '../context.js';
import { createVendorHandler } from './handler.js';

// The mounted vendor server.
export interface VendorMount {
  name: 'vendor';
  storeRoot: string;
  moduleErrors: number;
  request(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

// Opens the store and modules and returns the /vendor/v1/ handler; broken modules are logged, never fatal.
export async function startVendorMount(o: Omit<OpenVendorOptions, 'log'> & { publicUrl?: string | undefined; log?: Logger | undefined }): Promise<VendorMount> {
  const log = o.log?.child({ mod: 'vendor' });
  const ctx = await openVendor({ ...o, log: (fields, msg) => log?.warn(fields, msg) });
  const handler = createVendorHandler({ store: ctx.store, modules: ctx.loaded, publicUrl: ctx.config.publicUrl ?? o.publicUrl, ...(log ? { log } : {}) });
  log?.info({ store: ctx.store.root, modules: [...ctx.loaded.modules.keys()], broken: ctx.loaded.errors.length }, 'vendor services ready at /vendor/v1/');
  return { name: 'vendor', storeRoot: ctx.store.root, moduleErrors: ctx.loaded.errors.length, request: handler };
}
