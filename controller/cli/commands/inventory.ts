import { AGENT_OPTIONS, parse } from '../args.js';
import { line, type Output } from '../output.js';
import { renderInventory, renderPlan } from '../render.js';
import { openSession } from '../session.js';
import { DEVICE_OPTIONS, installRequestOf } from './install.js';
import { applyFidelityOptions, FIDELITY_OPTIONS } from '../fidelity-options.js';

export const INVENTORY_USAGE = `usage: xepa inventory HOST [--fingerprint FP] [--key-dir DIR] [--json]`;

// `xepa inventory`: what the agent sees on its machine.
export async function inventoryCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, AGENT_OPTIONS);
  if (values.help) return line(o.out, INVENTORY_USAGE), 0;
  const session = await openSession(positionals[0], values, (s) => line(o.err, s));
  try {
    const inv = await session.client.call('inventory', {});
    line(o.out, values.json ? JSON.stringify(inv, null, 2) : renderInventory(inv));
    return 0;
  } finally {
    session.close();
  }
}

export const PLAN_USAGE = `usage: xepa plan HOST --iso-url URL --sha256 HEX --disk DISK... [install options] [--json]`;

// `xepa plan`: the dry run of an install, changing nothing.
export async function planCommand(argv: string[], o: Output): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...AGENT_OPTIONS,
    'iso-url': { type: 'string' }, sha256: { type: 'string' }, 'iso-size': { type: 'string' }, disk: { type: 'string', multiple: true },
    memory: { type: 'string' }, cpus: { type: 'string' }, firmware: { type: 'string' }, accel: { type: 'string' }, 'disk-bus': { type: 'string' }, 'boot-order': { type: 'string' },
    ...DEVICE_OPTIONS,
    ...FIDELITY_OPTIONS,
  });
  if (values.help) return line(o.out, PLAN_USAGE), 0;
  const request = await applyFidelityOptions(installRequestOf(values), values);
  const session = await openSession(positionals[0], values, (s) => line(o.err, s));
  try {
    const plan = await session.client.call('plan', request);
    line(o.out, values.json ? JSON.stringify(plan, null, 2) : renderPlan(plan));
    return 0;
  } finally {
    session.close();
  }
}
