/** Where the netboot files are and how the rescue kernel should start. */
export interface IpxeScriptInput {
  kernelUrl: string; // Alpine netboot vmlinuz-lts (or the lab's rescue kernel)
  initrdUrl: string; // initramfs-lts
  modloopUrl?: string; // modloop-lts (kernel modules as squashfs); omit for kernels that need none
  apkovlUrl: string; // the overlay from the controller's Vendor Services
  alpineRepo?: string; // an Alpine repository URL (.../v3.20/main), becomes /etc/apk/repositories
  iommu?: 'intel' | 'amd' | 'both'; // which IOMMU switches go on the command line (default both: each vendor ignores the other's)
  consoles?: readonly string[]; // default tty0 and ttyS1,115200 (Equinix Metal's serial console is COM2)
  extraArgs?: readonly string[];
}

// Kernel arguments that turn the IOMMU on for device passthrough; iommu=pt keeps host DMA fast.
export function iommuArgs(which: 'intel' | 'amd' | 'both' = 'both'): string[] {
  const args: string[] = [];
  if (which !== 'amd') args.push('intel_iommu=on');
  if (which !== 'intel') args.push('amd_iommu=on');
  args.push('iommu=pt');
  return args;
}

// iPXE treats spaces as separators and ${...} as settings: refuse what would change the script's meaning.
function checked(what: string, value: string): string {
  if (/[\s${}]/.test(value)) throw new RangeError(`iPXE script: ${what} "${value}" must not contain spaces, "$", "{" or "}"`);
  return value;
}

// The kernel command line of the rescue boot (also usable by QEMU's -append in the lab).
export function rescueKernelArgs(input: Omit<IpxeScriptInput, 'kernelUrl' | 'initrdUrl'>): string[] {
  const args = ['ip=dhcp', 'modules=loop,squashfs', 'nomodeset'];
  if (input.modloopUrl) args.push(`modloop=${checked('modloop URL', input.modloopUrl)}`);
  args.push(`apkovl=${checked('apkovl URL', input.apkovlUrl)}`);
  if (input.alpineRepo) args.push(`alpine_repo=${checked('Alpine repository', input.alpineRepo)}`);
  args.push(...iommuArgs(input.iommu));
  for (const c of input.consoles ?? ['tty0', 'ttyS1,115200']) args.push(`console=${checked('console', c)}`);
  for (const a of input.extraArgs ?? []) args.push(checked('kernel argument', a));
  return args;
}

// The iPXE script a server chains into (from the provider's custom iPXE URL, or QEMU's iPXE in the lab):
// DHCP, then the Alpine netboot kernel and initramfs with the XEPA apkovl; retries the downloads three times.
export function renderIpxeScript(input: IpxeScriptInput): string {
  const kernel = checked('kernel URL', input.kernelUrl);
  const initrd = checked('initramfs URL', input.initrdUrl);
  const args = rescueKernelArgs(input).join(' ');
  return `#!ipxe
# XEPA rescue boot: Alpine netboot + the xepa-agent apkovl. Generated; do not edit.
set attempts:int32 0
:retry
inc attempts
iseq \${attempts} 4 && goto failed ||
dhcp || goto retry
kernel ${kernel} initrd=initrd.magic ${args} || goto retry
initrd --name initrd.magic ${initrd} || goto retry
boot || goto retry
:failed
echo XEPA rescue boot failed after 3 attempts: check that the controller's Vendor Services are reachable.
shell
`;
}
