import { readFile as fsReadFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AnswerMedium, InstallRequest, KeyStep } from '../../agent/protocol/index.js';
import { KeyScript, XepaError } from '../../agent/protocol/index.js';

// Command-line options of install and plan for fidelity and unattended installs (docs/fidelity.md).
export const FIDELITY_OPTIONS = {
  'cpu-model': { type: 'string' },
  'secure-boot': { type: 'string' },
  tpm: { type: 'string' },
  smbios: { type: 'string' },
  'vm-nic': { type: 'string' },
  'nic-model': { type: 'string' },
  mac: { type: 'string' },
  'answer-kind': { type: 'string' },
  'answer-file': { type: 'string', multiple: true },
  'answer-label': { type: 'string' },
  'answer-format': { type: 'string' },
  keys: { type: 'string' },
} as const;

// Usage lines for those options.
export const FIDELITY_USAGE = `         [--cpu-model auto|MODEL] [--secure-boot auto|on|off] [--tpm auto|on|off] [--smbios host|none]
         [--vm-nic auto|user|none] [--nic-model e1000e|virtio] [--mac MAC]
         [--answer-kind cloud-init|autounattend|kickstart|preseed|proxmox|custom] [--answer-file [NAME=]PATH]...
         [--answer-label LABEL] [--answer-format iso9660|vfat] [--keys JSON|@FILE]`;

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * Adds the fidelity options to an install request: VM options as given, answer files read from disk
 * (NAME=PATH puts PATH on the medium as NAME; binary files travel base64), a keystroke script as JSON.
 * Throws ERR_BAD_REQUEST naming the flag.
 */
export async function applyFidelityOptions(req: InstallRequest, v: Values, readFile: (p: string) => Promise<Buffer> = (p) => fsReadFile(p)): Promise<InstallRequest> {
  const vm: Record<string, unknown> = { ...(req.vm ?? {}) };
  const map: [string, string][] = [['cpu-model', 'cpuModel'], ['secure-boot', 'secureBoot'], ['tpm', 'tpm'], ['smbios', 'smbios'], ['vm-nic', 'nic'], ['nic-model', 'nicModel'], ['mac', 'mac']];
  for (const [flag, key] of map) if (typeof v[flag] === 'string') vm[key] = v[flag];
  const out: InstallRequest = { ...req, vm: vm as InstallRequest['vm'] };
  const files = (v['answer-file'] as string[] | undefined) ?? [];
  if (files.length > 0) {
    const answer: AnswerMedium = { files: [] };
    for (const spec of files) {
      const eq = spec.indexOf('=');
      const [name, path] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [basename(spec), spec];
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch (err) {
        throw new XepaError('ERR_BAD_REQUEST', `--answer-file ${spec}: cannot read ${path} (${(err as Error).message})`);
      }
      const text = data.toString('utf8');
      answer.files.push(Buffer.from(text, 'utf8').equals(data) ? { path: name, content: text } : { path: name, content: data.toString('base64'), encoding: 'base64' });
    }
    if (typeof v['answer-kind'] === 'string') answer.kind = v['answer-kind'] as AnswerMedium['kind'];
    if (typeof v['answer-label'] === 'string') answer.label = v['answer-label'];
    if (typeof v['answer-format'] === 'string') answer.format = v['answer-format'] as AnswerMedium['format'];
    out.answer = answer;
  } else if (v['answer-kind'] !== undefined) {
    throw new XepaError('ERR_BAD_REQUEST', '--answer-kind needs at least one --answer-file');
  }
  if (typeof v.keys === 'string') out.keys = await keysOf(v.keys, readFile);
  return out;
}

async function keysOf(text: string, readFile: (p: string) => Promise<Buffer>): Promise<KeyStep[]> {
  const json = text.startsWith('@') ? (await readFile(text.slice(1))).toString('utf8') : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new XepaError('ERR_BAD_REQUEST', '--keys takes a JSON list such as [{"waitMs":3000},{"keys":["ret"]},{"text":"auto\\n"}]');
  }
  const r = KeyScript.safeParse(parsed);
  if (!r.success) throw new XepaError('ERR_BAD_REQUEST', `--keys: ${r.error.issues[0]?.message ?? 'not a key script'}`);
  return r.data;
}
