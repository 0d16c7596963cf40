import * as systeminformation from 'systeminformation';

// The subset of systeminformation the inventory uses: CPU brand and core counts.
export interface SiCpu {
  manufacturer: string;
  brand: string;
  cores: number; // logical processors
  physicalCores: number;
}

// An injectable stand-in for systeminformation: tests pass a stub, production the memoized default.
export interface SiSubset {
  cpu(): Promise<SiCpu>;
}

// systeminformation's cpu() spawns lscpu (twice) and dmidecode on every call: measured 170-290 ms on a
// 2-core VM. The CPU does not change while the agent runs, so the default asks once per process.
export function memoizedSi(si: Pick<typeof systeminformation, 'cpu'> = systeminformation): SiSubset {
  let cached: Promise<SiCpu> | undefined;
  return {
    cpu() {
      cached ??= si.cpu().then((c) => ({
        manufacturer: c.manufacturer,
        brand: c.brand,
        cores: c.cores,
        physicalCores: c.physicalCores,
      }));
      return cached;
    },
  };
}

let shared: SiSubset | undefined;

// The process-wide memoized systeminformation, created on first use.
export function defaultSi(): SiSubset {
  shared ??= memoizedSi();
  return shared;
}
