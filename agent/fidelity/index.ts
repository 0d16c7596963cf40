// Fidelity: the VM made to look like the server (SMBIOS, CPU model, firmware, TPM, NIC, PCI layout) and
// unattended installs (answer media, boot-menu keystrokes). docs/fidelity.md.
export { parseSmbiosTable, selectIdentityStructures, smbiosStrings, smbiosString, encodeSmbiosStructure, entryPointKind, IDENTITY_TYPES, type SmbiosStructure } from './smbios-table.js';
export { writeSmbiosFiles } from './smbios-files.js';
export { probeCpuModel, KVM_CPU_CANDIDATES, TCG_CPU_MODEL, type CpuModelChoice, type CpuModelProbeDeps } from './cpu-model.js';
export { readFidelityFacts, readHostSmbios, readHostTpm, findExecutable, type FidelityFacts } from './host-facts.js';
export { planFidelity, type FidelityInputs, type PlanSoFar, type FidelityDecision } from './fidelity-plan.js';
export { chooseNic, serverNic } from './nic-choice.js';
export { answerFiles, answerLabel, answerSummary, ANSWER_CONVENTIONS, type AnswerBytes } from './answer-files.js';
export { buildAnswerMedium } from './answer-medium.js';
export { chordOf, keyActions, runKeyScript, type KeyAction, type KeyChord, type KeyScriptDeps } from './keystrokes.js';
export { startSwtpm, type RunningSwtpm, type SwtpmDeps } from './swtpm.js';
export { mirrorPciLayout, mirroredHostDevices, Q35_RESERVED, type GuestPlacement, type PciLayout } from './pci-layout.js';
export { prepareFidelity, type FidelitySpec, type PreparedFidelity, type PrepareFidelityDeps } from './prepare.js';
export { createToolRunner, checkTool, TOOL_PACKAGES, type ToolRunner, type ToolResult } from './run-tool.js';
export { pciFidelityFacts, type PciFactsView } from './pci-facts.js';
export { prepareGuestNic, type GuestNetIsolator, type PreparedGuestNic } from './guest-nic.js';
export { serveAnswerFiles, ANSWER_HTTP_MAX_CONNECTIONS, type AnswerHttp } from './answer-http.js';
export { prepareFidelityStep, hostDevicesOf } from './prepare-step.js';
export { typeBootKeysStep } from './keys-step.js';
export { fidelityInputs } from './plan-inputs.js';
