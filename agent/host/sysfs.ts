import { RootedFs } from './rooted-fs.js';

// The only code that touches sysfs: block, net and PCI attributes, symlinks and writes under `root`.
export class Sysfs extends RootedFs {
  constructor(root = '/sys') {
    super(root);
  }
}
