import type { Plan } from '../../agent/protocol/index.js';
import { table } from './output.js';

// The plan's fidelity report (docs/fidelity.md): how the VM mirrors the server and what will still differ.
export function renderFidelity(p: Plan): string[] {
  const f = p.fidelity;
  if (!f) return [];
  const sb = (v: boolean | undefined): string => (v === undefined ? 'unknown' : v ? 'on' : 'off');
  const rows = [
    ['boot mode', f.firmware.host, f.firmware.vm, f.summary.firmware ?? ''],
    ['Secure Boot', sb(f.firmware.secureBoot.host), `${sb(f.firmware.secureBoot.vm)}${f.firmware.secureBoot.available ? '' : ' (no OVMF secure build)'}`, ''],
    ['identity (SMBIOS)', 'host', f.smbios.source === 'host' ? `host types ${f.smbios.structures.join(',')}` : 'QEMU', f.summary.identity ?? ''],
    ['CPU model', 'host', `${f.cpu.model} (${f.cpu.reason})`, f.summary.cpu ?? ''],
    ['TPM', f.tpm.host, f.tpm.vm ? '2.0 (swtpm)' : 'none', f.summary.tpm ?? ''],
    ['NIC', '', f.nic.mode === 'user' ? `${f.nic.model} NAT${f.nic.mac ? ` mac ${f.nic.mac}` : ''}` : f.nic.mode, f.summary.nic ?? ''],
    ['IOMMU', f.iommu.enabled ? 'on' : 'off', `interrupt remapping ${f.iommu.interruptRemapping}`, ''],
  ];
  const out = ['', 'fidelity (server vs VM):', table([['', 'SERVER', 'VM', ''], ...rows])];
  out.push(`memory: ${f.memory.availableMiB} MiB available; VM ${f.memory.vmMiB} MiB, ISO in RAM ${f.memory.isoMiB} MiB, reserve ${f.memory.reserveMiB} MiB`);
  for (const r of f.resetMethods) out.push(`reset ${r.bdf} (${r.className}): ${r.methods.join(', ') || 'none'}`);
  if (f.answer) out.push(`answer medium: ${f.answer.kind}, label ${f.answer.label}, ${f.answer.format}, ${f.answer.files} file(s), ${f.answer.bytes} bytes`);
  if (f.keys) out.push(`boot-menu keystrokes: ${f.keys.steps} step(s), ${(f.keys.waitMs / 1000).toFixed(1)} s of waits`);
  for (const d of f.differences) out.push(`differs: ${d}`);
  if (f.landing) out.push(`after the install: ${f.landing.reason}`);
  return out;
}
