import type { InstallRequestParsed, Inventory, PlanFidelity, PlanLanding, RescueNetwork } from '../protocol/index.js';
import { describeRescueNetwork } from '../landing/index.js';
import { XepaError } from '../protocol/index.js';
import type { CpuModelChoice } from './cpu-model.js';
import type { FidelityFacts } from './host-facts.js';
import { answerSummary } from './answer-files.js';
import { chooseNic } from './nic-choice.js';
import { mirrorPciLayout } from './pci-layout.js';

// Everything planFidelity weighs, gathered by the agent (facts, probes) and the planner (the rest of the plan).
export interface FidelityInputs {
  facts: FidelityFacts;
  cpu: CpuModelChoice;
  /** An OVMF Secure Boot build is installed. */
  secureBootBuild: boolean;
  /** From the PCI view when the agent reads it. */
  iommu?: { enabled: boolean; interruptRemapping: 'on' | 'off' | 'unknown' };
  /** Reset methods of the devices given to the VM (sysfs reset_method). */
  resetMethods?: { bdf: string; className: string; methods: string[] }[];
  /** The rescue system's live network, which `finish` carries into the installed system by default. */
  landing?: { rescue?: RescueNetwork; problem?: string };
}

// What the rest of the plan already decided.
export interface PlanSoFar {
  firmware: 'bios' | 'uefi';
  accel: 'kvm' | 'tcg';
  memoryMiB: number;
  cpus: number;
  diskBus: string;
  rawDisks: number;
  passedNics: number;
  isoRamBytes: number;
  reserveMiB: number;
  /** BDFs passed through with vfio-pci (their guest addresses mirror the host's). */
  passthroughBdfs?: string[];
}

// The fidelity part of a plan, the warnings it adds, and the stable decisions that go into the plan hash.
export interface FidelityDecision {
  fidelity: PlanFidelity;
  warnings: string[];
  hashKey: Record<string, unknown>;
}

const MiB = 1024 * 1024;

/**
 * Decides how closely the VM mirrors the server (docs/fidelity.md) and says what will still differ. Pure.
 * Throws ERR_TOOL_MISSING for `tpm: on` without swtpm, ERR_FIRMWARE_MISSING for `secureBoot: on` without
 * an OVMF Secure Boot build.
 */
export function planFidelity(req: InstallRequestParsed, inv: Inventory, inputs: FidelityInputs, so: PlanSoFar): FidelityDecision {
  const { facts } = inputs;
  const vm = req.vm;
  const warnings: string[] = [];
  const differences: string[] = [];

  const uefi = so.firmware === 'uefi';
  if (vm.secureBoot === 'on' && (!uefi || !inputs.secureBootBuild)) {
    throw new XepaError('ERR_FIRMWARE_MISSING', uefi ? 'Secure Boot requested but no OVMF Secure Boot build is installed (Debian: ovmf provides OVMF_CODE_4M.ms.fd)' : 'Secure Boot requested for a BIOS VM');
  }
  const secureVm = uefi && inputs.secureBootBuild && (vm.secureBoot === 'on' || (vm.secureBoot === 'auto' && inv.firmware.secureBoot === true));
  if (uefi && vm.secureBoot === 'auto' && inv.firmware.secureBoot === true && !inputs.secureBootBuild) {
    warnings.push('the server boots with Secure Boot but no OVMF Secure Boot build is installed: the VM runs without it');
  }
  if (uefi && secureVm !== (inv.firmware.secureBoot === true)) {
    differences.push(`Secure Boot is ${secureVm ? 'on' : 'off'} in the VM and ${inv.firmware.secureBoot ? 'on' : 'off'} on the server`);
  }
  if (uefi) differences.push('UEFI boot entries the installer writes land in the VM\'s NVRAM: `xepa finish` recreates its entry on the server');
  if (secureVm) differences.push('the VM trusts OVMF\'s Microsoft keys; a server with its own Secure Boot keys may refuse the installed loader');

  const smbiosOn = vm.smbios === 'host' && facts.smbios.table !== undefined;
  const smbiosReason = vm.smbios === 'none' ? 'not requested (QEMU\'s own SMBIOS)'
    : smbiosOn ? `the host's identity structures (types ${facts.smbios.identityTypes.join(', ')})${facts.smbios.entryPoint === '64' ? ', SMBIOS 3 entry point' : ''}`
    : `${facts.smbios.problem ?? 'no host SMBIOS'}: QEMU's own SMBIOS`;
  if (vm.smbios === 'host' && !smbiosOn) warnings.push(`SMBIOS: ${smbiosReason}`);
  if (smbiosOn) differences.push('SMBIOS processor and memory structures describe the VM, not the server');
  else differences.push('the installer sees QEMU\'s SMBIOS identity (vendor QEMU, no server serial or UUID)');

  const wantTpm = vm.tpm === 'on' || (vm.tpm === 'auto' && facts.tpm === '2.0');
  if (wantTpm && !facts.swtpm) {
    if (vm.tpm === 'on') throw new XepaError('ERR_TOOL_MISSING', 'a TPM was requested but swtpm is not installed (Debian: apt-get install swtpm; Alpine: apk add swtpm)', { details: { tool: 'swtpm' } });
    warnings.push('the server has a TPM 2.0 but swtpm is not installed: the VM has no TPM (install swtpm for one)');
  }
  const tpmVm = wantTpm && facts.swtpm !== undefined;
  const tpmReason = tpmVm ? `TPM 2.0 emulated by swtpm (${facts.swtpm})` : vm.tpm === 'off' ? 'not requested' : facts.tpm === '1.2' ? 'the server\'s TPM is 1.2: swtpm emulates 2.0 only, none given' : facts.tpm === 'none' ? 'the server has no TPM' : 'swtpm missing';
  if (tpmVm) differences.push('the VM\'s TPM is an emulated one: keys sealed to it (BitLocker, LUKS with TPM, measured boot) do not exist on the server\'s TPM');
  else if (facts.tpm !== 'none') differences.push(`the server has a TPM ${facts.tpm}, the VM none`);

  const nic = chooseNic(req, inv, so.passedNics);
  if (nic.mode === 'user') differences.push(`the installer's NIC is an emulated ${nic.model} (NAT, never bridged): interface name and driver differ on the metal${nic.mac ? '; the MAC is the server\'s' : ''}`);

  const cpuSame = inputs.cpu.model === 'host';
  if (!cpuSame) differences.push(`the CPU model is ${inputs.cpu.model} (${inputs.cpu.reason}), not the server's ${inv.cpu.model}`);
  if (so.cpus < inv.cpu.threads) differences.push(`the VM has ${so.cpus} vCPU and ${so.memoryMiB} MiB; the server ${inv.cpu.threads} threads and ${Math.round(inv.memory.totalBytes / MiB)} MiB`);
  if (so.rawDisks > 0) differences.push(`${so.rawDisks} disk(s) reach the VM as raw ${so.diskBus} devices: device names (vda, sda) and controllers differ from the server's; serials are kept`);

  if (so.passthroughBdfs?.length) {
    // Mirrored addresses are no difference; what could not be mirrored is.
    differences.push(...mirrorPciLayout(so.passthroughBdfs).notes);
  }
  const answer = req.answer ? answerSummary(req.answer) : undefined;
  const keys = req.keys?.length ? { steps: req.keys.length, waitMs: req.keys.reduce((t, s) => t + ('waitMs' in s ? s.waitMs : 0), 0) } : undefined;
  const fidelity: PlanFidelity = {
    firmware: { host: inv.firmware.mode, vm: so.firmware, secureBoot: { ...(inv.firmware.secureBoot !== undefined ? { host: inv.firmware.secureBoot } : {}), vm: secureVm, available: inputs.secureBootBuild } },
    cpu: inputs.cpu,
    smbios: { source: smbiosOn ? 'host' : 'none', structures: smbiosOn ? facts.smbios.identityTypes : [], reason: smbiosReason },
    tpm: { host: facts.tpm, vm: tpmVm, reason: tpmReason },
    nic,
    ...(answer ? { answer } : {}),
    ...(keys ? { keys } : {}),
    iommu: inputs.iommu ?? { enabled: inv.iommu.enabled, interruptRemapping: 'unknown' },
    resetMethods: inputs.resetMethods ?? [],
    memory: {
      availableMiB: Math.floor(inv.memory.availableBytes / MiB),
      isoMiB: Math.ceil(so.isoRamBytes / MiB),
      vmMiB: so.memoryMiB,
      reserveMiB: so.reserveMiB,
    },
    summary: {
      identity: smbiosOn ? 'same' : 'differs',
      firmware: so.firmware === inv.firmware.mode && secureVm === (inv.firmware.secureBoot === true) ? 'same' : 'differs',
      cpu: cpuSame ? 'same' : 'differs',
      tpm: facts.tpm === 'none' ? (tpmVm ? 'differs' : 'same') : tpmVm ? 'same' : 'absent',
      nic: nic.mode === 'passthrough' ? 'same' : nic.mode === 'none' ? 'absent' : 'differs',
    },
    differences,
    ...(inputs.landing ? { landing: planLanding(inputs.landing, warnings) } : {}),
  };
  for (const r of fidelity.resetMethods) {
    if (r.methods.length === 0) warnings.push(`${r.bdf} (${r.className}) has no reset method: it may not come back cleanly after the VM`);
  }
  const hashKey = { secureBoot: secureVm, cpu: inputs.cpu.model, smbios: fidelity.smbios.source, tpm: tpmVm, nic: `${nic.mode}/${nic.model ?? ''}/${nic.mac ?? ''}`, answer: answer ?? null };
  return { fidelity, warnings, hashKey };
}

// What finish will do with the installed system's network by default, said before the install (the default is
// the rescue system's live configuration, because that is the address the server answers on today).
function planLanding(l: NonNullable<FidelityInputs['landing']>, warnings: string[]): PlanLanding {
  const base = { network: 'rescue' as const, ...(l.rescue ? { rescue: l.rescue } : {}), ...(l.problem ? { problem: l.problem } : {}) };
  if (!l.rescue) {
    warnings.push(`finish cannot carry the rescue network into the installed system: ${l.problem ?? 'it was not read'} (finish --network dhcp or keep)`);
    return { ...base, reason: `the rescue system's network could not be read (${l.problem ?? 'unknown'}): finish --network rescue would fail; use --network dhcp or keep` };
  }
  if (l.rescue.kind) {
    warnings.push(`the rescue system reaches the network through ${l.rescue.iface}, a ${l.rescue.kind}: finish --network rescue writes plain-NIC configurations only`);
  }
  return {
    ...base,
    reason: `finish (--network rescue, the default) writes ${describeRescueNetwork(l.rescue)} into the installed system for its network stack, matched by MAC, so the server answers where it answers now; finish --network dhcp or keep instead`,
  };
}
