// A fake efibootmgr with the real one's arguments and output format (efibootmgr 17), state in memory:
// the firmware of a test server. Other tools go to `next`.
import type { ToolResult, ToolRunner } from '../../../agent/fidelity/index.js';

export interface FakeFirmware {
  order: string[];
  entries: { num: string; label: string; path: string }[];
  calls: string[][];
}

// A runner that answers efibootmgr from `fw` and passes every other tool to `next`.
export function fakeEfibootmgr(fw: FakeFirmware, next: ToolRunner, partuuids: Record<string, string> = {}): ToolRunner {
  const ok = (stdout = ''): ToolResult => ({ code: 0, stdout, stderr: '' });
  const show = (): string =>
    [`BootOrder: ${fw.order.join(',')}`, ...fw.entries.map((e) => `Boot${e.num}* ${e.label}\t${e.path}`)].join('\n') + '\n';
  return async (cmd, args, opts) => {
    if (cmd !== 'efibootmgr') return next(cmd, args, opts);
    fw.calls.push(args);
    const val = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    if (args[0] === '-v') return ok(show());
    if (args.includes('--create-only')) {
      const disk = val('--disk')!;
      const part = val('--part')!;
      const uuid = partuuids[`${disk}${part}`] ?? '00000000-0000-0000-0000-000000000000';
      const num = (Math.max(-1, ...fw.entries.map((e) => parseInt(e.num, 16))) + 1).toString(16).toUpperCase().padStart(4, '0');
      fw.entries.push({ num, label: val('--label')!, path: `HD(${part},GPT,${uuid},0x800,0x10000)/File(${val('--loader')!})` });
      return ok(show());
    }
    if (args[0] === '--bootorder') {
      const order = val('--bootorder')!.split(',');
      if (order.some((n) => !fw.entries.some((e) => e.num === n))) return { code: 1, stdout: '', stderr: 'Could not set BootOrder: Invalid argument' };
      fw.order = order;
      return ok(show());
    }
    return { code: 2, stdout: '', stderr: `fake efibootmgr: unsupported ${args.join(' ')}` };
  };
}
