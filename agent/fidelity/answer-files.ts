import type { AnswerMediumParsed, PlanFidelity } from '../protocol/index.js';
import { MAX_ANSWER_BYTES, XepaError } from '../protocol/index.js';

// What each installer family looks for: the volume label and the files that must be on the medium.
export const ANSWER_CONVENTIONS: Record<AnswerMediumParsed['kind'], { label: string; required: string[]; hint: string }> = {
  // cloud-init NoCloud: a filesystem labelled cidata/CIDATA with user-data and meta-data at its root.
  'cloud-init': { label: 'CIDATA', required: ['user-data', 'meta-data'], hint: 'NoCloud datasource' },
  // Windows Setup searches the root of every removable and CD drive for autounattend.xml.
  autounattend: { label: 'AUTOUNATTEND', required: ['autounattend.xml'], hint: 'Windows Setup' },
  // Anaconda loads ks.cfg from a volume labelled OEMDRV without any boot option.
  kickstart: { label: 'OEMDRV', required: ['ks.cfg'], hint: 'Anaconda OEMDRV' },
  // debian-installer reads no second medium by itself (its netboot flavour cannot read a CD at all): a key script
  // types the boot option auto=true priority=critical url=http://10.0.2.100/preseed.cfg (docs/answer-files.md).
  preseed: { label: 'PRESEED', required: ['preseed.cfg'], hint: 'debian-installer: boot option url=http://10.0.2.100/preseed.cfg' },
  // proxmox-auto-install-assistant ISOs prepared with --fetch-from partition look for this label.
  proxmox: { label: 'PROXMOX-AIS', required: ['answer.toml'], hint: 'Proxmox automated installation' },
  custom: { label: 'XEPA-ANSWER', required: [], hint: 'files as given' },
};

// One file of the medium as bytes.
export interface AnswerBytes {
  path: string;
  data: Buffer;
}

// The medium's files as bytes, checked: size limit, unique paths, the kind's required files (cloud-init's
// meta-data is made up when missing: instance-id is all NoCloud needs). Throws ERR_BAD_REQUEST. Pure.
export function answerFiles(a: AnswerMediumParsed, instanceId = 'xepa'): AnswerBytes[] {
  const files = a.files.map((f) => ({ path: f.path, data: f.encoding === 'base64' ? Buffer.from(f.content, 'base64') : Buffer.from(f.content, 'utf8') }));
  const total = files.reduce((t, f) => t + f.data.length, 0);
  if (total > MAX_ANSWER_BYTES) throw new XepaError('ERR_BAD_REQUEST', `answer files hold ${total} bytes; at most ${MAX_ANSWER_BYTES} fit in a request`);
  const seen = new Set<string>();
  for (const f of files) {
    const key = f.path.toLowerCase(); // FAT and Joliet names are case-insensitive
    if (seen.has(key)) throw new XepaError('ERR_BAD_REQUEST', `answer file ${f.path} is given twice`);
    seen.add(key);
  }
  if (a.kind === 'cloud-init' && !seen.has('meta-data')) files.push({ path: 'meta-data', data: Buffer.from(`instance-id: ${instanceId}\n`) });
  const have = new Set(files.map((f) => f.path.toLowerCase()));
  const missing = ANSWER_CONVENTIONS[a.kind].required.filter((r) => !have.has(r));
  if (missing.length > 0) throw new XepaError('ERR_BAD_REQUEST', `a ${a.kind} medium needs ${missing.join(', ')} at its root (${ANSWER_CONVENTIONS[a.kind].hint})`);
  return files;
}

// The medium's label: as requested, else the kind's convention; FAT labels are at most 11 characters.
export function answerLabel(a: AnswerMediumParsed): string {
  const label = (a.label ?? ANSWER_CONVENTIONS[a.kind].label).toUpperCase();
  if (a.format === 'vfat' && label.length > 11) throw new XepaError('ERR_BAD_REQUEST', `FAT labels have at most 11 characters: ${label}`);
  return label;
}

// What the plan says about the medium.
export function answerSummary(a: AnswerMediumParsed): NonNullable<PlanFidelity['answer']> {
  const files = answerFiles(a);
  return { kind: a.kind, label: answerLabel(a), format: a.format, files: files.length, bytes: files.reduce((t, f) => t + f.data.length, 0) };
}
