import type { VmSpec } from './vm-spec.js';

// The address at which a guest on user networking finds its answer files (http://10.0.2.100/<path>): slirp's
// guestfwd, seen by that guest alone.
export const ANSWER_URL_HOST = '10.0.2.100';

// Escapes a value for QEMU's option syntax (',' separates keys, ',,' is a literal comma).
const e = (value: string): string => value.replaceAll(',', ',,');

/**
 * QEMU arguments of the fidelity options that need no SATA port (docs/fidelity.md): SMBIOS structures and
 * fields, the swtpm-backed TPM 2.0, emulated NICs on user networking, answer media on USB. Pure.
 */
export function fidelityArgs(spec: VmSpec): string[] {
  const args: string[] = [];
  if (spec.smbios) {
    // A later -machine merges into the first one (QEMU's machine options are one merged list).
    if (spec.smbios.entryPoint === '64') args.push('-machine', 'smbios-entry-point-type=64');
    for (const file of spec.smbios.files) args.push('-smbios', `file=${e(file)}`);
    for (const fields of spec.smbios.fields ?? []) args.push('-smbios', fields);
  }
  if (spec.tpm) {
    args.push('-chardev', `socket,id=chrtpm,path=${e(spec.tpm.socket)}`);
    args.push('-tpmdev', 'emulator,id=tpm0,chardev=chrtpm');
    args.push('-device', 'tpm-crb,tpmdev=tpm0');
  }
  (spec.nics ?? []).forEach((nic, i) => {
    // User networking: the guest is NATed behind the rescue system; nothing reaches it from outside. The answer
    // endpoint is a guestfwd: slirp runs socat per connection (the chardev form would connect only once).
    const fwd = nic.answerSocket ? `,guestfwd=tcp:${ANSWER_URL_HOST}:80-cmd:socat - UNIX-CONNECT:'${e(nic.answerSocket)}'` : '';
    args.push('-netdev', `user,id=net${i}${nic.restrict ? ',restrict=on' : ''}${fwd}`);
    args.push('-device', `${nic.model},id=nic${i},netdev=net${i}${nic.mac ? `,mac=${nic.mac}` : ''}`);
  });
  const sticks = (spec.answerMedia ?? []).filter((m) => m.format === 'vfat');
  if (sticks.length > 0) args.push('-device', 'qemu-xhci,id=xhci');
  sticks.forEach((m, i) => {
    args.push('-drive', `if=none,id=answerusb${i},file=${e(m.path)},format=raw,readonly=on`);
    args.push('-device', `usb-storage,bus=xhci.0,drive=answerusb${i},removable=on`);
  });
  return args;
}

// The ISO 9660 answer media, for the caller to attach as SATA CD-ROMs (they share the AHCI ports).
export function answerCdroms(spec: VmSpec): string[] {
  return (spec.answerMedia ?? []).filter((m) => m.format === 'iso9660').map((m) => m.path);
}

// Paths and values of the fidelity options that must not carry a control character; returns the bad one.
export function fidelityProblems(spec: VmSpec): string | undefined {
  const paths = [...(spec.smbios?.files ?? []), ...(spec.answerMedia ?? []).map((m) => m.path)];
  if (spec.tpm) paths.push(spec.tpm.socket);
  // The guestfwd command is split like a shell line: a quote would end the path early.
  for (const n of spec.nics ?? []) {
    if (n.answerSocket === undefined) continue;
    if (n.answerSocket.includes("'")) return `answer socket ${JSON.stringify(n.answerSocket)} contains a quote`;
    paths.push(n.answerSocket);
  }
  if (spec.netns !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(spec.netns)) return `network namespace ${JSON.stringify(spec.netns)} is not a plain name`;
  for (const p of paths) if (p === '' || /[\0\n\r]/.test(p)) return `path ${JSON.stringify(p)} is empty or contains a control character`;
  for (const f of spec.smbios?.fields ?? []) if (!/^type=\d+(,[a-z_]+=([^,\0\n\r]|,,)*)*$/.test(f)) return `SMBIOS fields ${JSON.stringify(f)} are not type=N,key=value`;
  for (const n of spec.nics ?? []) if (n.mac !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(n.mac)) return `MAC ${JSON.stringify(n.mac)} is not aa:bb:cc:dd:ee:ff`;
  return undefined;
}
