// The network writers: facts in, files out (pure), one per stack.
import type { NetworkStack } from '../../protocol/index.js';
import { ifupdownFiles } from './ifupdown.js';
import { networkManagerFiles } from './network-manager.js';
import { netplanFiles } from './netplan.js';
import { networkdFiles } from './networkd.js';
import type { NetworkFiles, WriterInput } from './types.js';

export { networkdFiles, networkdUnit, NETWORKD_FILE } from './networkd.js';
export { netplanFiles, netplanYaml, NETPLAN_FILE, NETPLAN_ID } from './netplan.js';
export { networkManagerFiles, nmKeyfile, NM_FILE } from './network-manager.js';
export { ifupdownFiles, pinnedName, stanza, IFUPDOWN_FILE, LINK_FILE } from './ifupdown.js';
export type { NetworkFiles, PlannedFile, WriterInput } from './types.js';

// The files that make `stack` bring the server's NIC up. Pure.
export function networkFilesFor(stack: NetworkStack, i: WriterInput): NetworkFiles {
  switch (stack) {
    case 'netplan':
      return netplanFiles(i);
    case 'network-manager':
      return networkManagerFiles(i);
    case 'systemd-networkd':
      return networkdFiles(i);
    case 'ifupdown':
      return ifupdownFiles(i);
  }
}
