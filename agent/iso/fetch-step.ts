import type { JobStep } from '../steps/index.js';
import { checkBootFirmware, readIsoBootCatalog } from './boot-firmware.js';
import type { BootCatalog } from './el-torito.js';
import { fetchIso, type FetchIsoDeps, type FetchIsoRequest, type FetchIsoResult } from './fetch.js';

/** What the fetch step hands on: the verified ISO in the agent's ISO directory. */
export interface FetchedIso {
  iso?: FetchIsoResult;
}

const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1);

// The step that brings the request's ISO into o.isoDir, verified (SHA-256 while streaming, resumable), within the
// space and RAM budget left after the VM's memory, and then refuses a firmware its El Torito catalog has no boot
// entry for (before the VM starts). Nothing to undo: a verified ISO stays cached for the next job.
export function fetchIsoStep(o: {
  isoDir: string;
  // Loopback and link-local sources (agent option allowLocalIsoUrls): refused unless the operator allows them.
  allowLocalAddresses?: boolean;
  fetch?: (req: FetchIsoRequest, deps: FetchIsoDeps) => Promise<FetchIsoResult>;
  // Reads the verified ISO's boot catalog (default: from the file).
  readCatalog?: (path: string) => Promise<BootCatalog>;
}): JobStep<FetchedIso> {
  const fetch = o.fetch ?? fetchIso;
  const readCatalog = o.readCatalog ?? readIsoBootCatalog;
  return {
    name: 'fetch-iso',
    async run(ctx) {
      const { iso: want } = ctx.job.request;
      ctx.emit('fetching', `fetching ${want.url}`, { progress: 0 }); // the job log shows URLs redacted
      let last = 0;
      const iso = await fetch(
        { url: want.url, sha256: want.sha256, size: want.size, destDir: o.isoDir },
        {
          log: ctx.log.child({ mod: 'iso' }),
          signal: ctx.signal,
          allowLocalAddresses: o.allowLocalAddresses === true,
          budget: { reserveBytes: ctx.job.plan.memoryMiB * 1024 * 1024 },
          onProgress: ({ bytes, total }) => {
            const t = ctx.now().getTime();
            if (t - last < 1000 && bytes !== total) return; // one event a second is plenty on the wire
            last = t;
            const detail: Record<string, unknown> = { bytes, ...(total ? { total } : {}) };
            ctx.emit('fetching', total ? `${mib(bytes)} of ${mib(total)} MiB` : `${mib(bytes)} MiB`, total ? { progress: bytes / total, detail } : { detail });
          },
        },
      );
      ctx.emit('verifying', `sha256 ${iso.sha256.slice(0, 16)}… matches (${mib(iso.size)} MiB${iso.reused ? ', cached copy re-verified' : ', verified while streaming'})`, { progress: 1 });
      const catalog = await readCatalog(iso.path);
      if (ctx.job.request.vm.bootOrder === 'disk-first') {
        // The VM boots its disks first: a CD the firmware cannot boot is reported, not refused.
        try {
          ctx.emit('verifying', `El Torito boot catalog: ${checkBootFirmware(catalog, ctx.job.plan.firmware)}`);
        } catch (err) {
          ctx.emit('verifying', `${err instanceof Error ? err.message : String(err)}; not refused: the VM boots its disks first (disk-first)`);
        }
      } else {
        const boots = checkBootFirmware(catalog, ctx.job.plan.firmware);
        ctx.emit('verifying', `El Torito boot catalog: ${boots}; the VM boots it under ${ctx.job.plan.firmware === 'bios' ? 'BIOS' : 'UEFI'}`);
      }
      ctx.values.iso = iso;
    },
  };
}
