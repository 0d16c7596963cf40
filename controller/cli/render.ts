import { formatSeconds, type Inventory, type JobSummary, type Plan } from '../../agent/protocol/index.js';
import { bytes, table } from './output.js';
import { renderPassthrough } from './render-devices.js';
import { renderFidelity } from './render-fidelity.js';

// The inventory as a person reads it.
export function renderInventory(inv: Inventory): string {
  const out: string[] = [];
  out.push(`${inv.hostname}: ${inv.cpu.model} (${inv.cpu.cores} cores, ${inv.cpu.threads} threads${inv.cpu.hypervisor ? ', under a hypervisor' : ''})`);
  out.push(`memory ${bytes(inv.memory.totalBytes)} (${bytes(inv.memory.availableBytes)} available)`);
  out.push(`firmware ${inv.firmware.mode}${inv.firmware.secureBoot === undefined ? '' : `, Secure Boot ${inv.firmware.secureBoot ? 'on' : 'off'}`}`);
  out.push(`kvm ${inv.kvm.usable === undefined ? (inv.kvm.device ? 'device present' : 'absent') : inv.kvm.usable ? 'usable' : 'not usable'}: ${inv.kvm.reason}`);
  out.push(`iommu ${inv.iommu.enabled ? `on (${inv.iommu.groups} groups)` : 'off'}`);
  out.push('', 'disks:');
  out.push(table([['DEVICE', 'SIZE', 'SERIAL', 'WWN', 'MODEL', 'BUS', 'PCI', 'IN USE'], ...inv.disks.map((d) => [
    d.path, bytes(d.sizeBytes), d.serial ?? '-', d.wwn ?? '-', d.model ?? '-', d.transport ?? '-', d.pciAddress ?? '-', d.inUse.join(', ') || '-',
  ])]));
  out.push('', 'network:');
  out.push(table([['NIC', 'MAC', 'LINK', 'ADDRESSES', 'PCI', 'ROUTE'], ...inv.nics.map((n) => [
    n.name, n.mac ?? '-', n.linkUp ? 'up' : 'down', n.addresses.join(' ') || '-', n.pciAddress ?? (n.virtual ? 'virtual' : '-'), n.defaultRoute ? 'default' : '',
  ])]));
  out.push('', 'pci:');
  out.push(table([['ADDRESS', 'ID', 'CLASS', 'DRIVER', 'GROUP'], ...inv.pci.map((p) => [
    p.address, `${p.vendorId.replace(/^0x/, '')}:${p.deviceId.replace(/^0x/, '')}`, p.className, p.driver ?? '-', p.iommuGroup === undefined ? '-' : String(p.iommuGroup),
  ])]));
  return out.join('\n');
}

// The plan as a person reviews it before saying yes.
export function renderPlan(p: Plan): string {
  const out = [
    `plan ${p.hash}`,
    table([['DISK', 'SIZE', 'SERIAL', 'WWN', 'MODEL', 'VIA'], ...p.disks.map((d) => [d.path, bytes(d.sizeBytes), d.serial ?? '-', d.wwn ?? '-', d.model ?? '-', d.via === 'vfio' && d.pciAddress ? `vfio ${d.pciAddress}` : d.via])]),
    `vm: ${p.memoryMiB} MiB, ${p.cpus} vCPU, ${p.firmware}, ${p.accel} (${p.accelReason}), disks on ${p.diskBus}${p.deadlineSeconds ? `, deadline ${formatSeconds(p.deadlineSeconds)}` : ''}`,
    ...renderPassthrough(p),
    ...renderFidelity(p),
  ];
  for (const w of p.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

// One line per job for `xepa jobs`.
export function renderJobs(jobs: JobSummary[]): string {
  if (jobs.length === 0) return 'no jobs';
  return table([['JOB', 'STATE', 'CREATED', 'DISKS', 'ERROR'], ...jobs.map((j) => [
    j.id, j.state, j.createdAt, j.plan?.disks.map((d) => d.path).join(',') ?? '-', j.error ? `${j.error.code}: ${j.error.message}` : '',
  ])]);
}
